// Why norn would not touch the cloudflared config file. The file is never written when one of these is thrown,
// so the tunnel keeps running with what it had. `problems` are the lines to show an operator.

export type CloudflaredConfigErrorKind =
  /** The file (or its directory) does not exist. */
  | 'missing'
  /** The file as it is would not load in cloudflared (or is not YAML at all). */
  | 'invalid'
  /** Valid for cloudflared, but laid out in a way norn does not edit (a flow-style `ingress: [...]`). */
  | 'unsupported'
  /** A hostname the app wants is already routed by a rule norn does not own for that app. */
  | 'conflict'
  /** Another writer held the lock for longer than the lock timeout. */
  | 'locked';

export class CloudflaredConfigError extends Error {
  constructor(
    readonly kind: CloudflaredConfigErrorKind,
    readonly path: string,
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`cloudflared config ${path}: ${problems.join('; ')}`, options);
    this.name = 'CloudflaredConfigError';
  }
}
