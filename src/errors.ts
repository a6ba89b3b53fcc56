// The typed errors shared by the whole service. Callers branch on `instanceof` and fields, never on message text.
// The HTTP error middleware maps them to status codes and shows messages only for 4xx.

/**
 * A remote API (Nomad, a forge, the registry, a git remote) answered with an error, or gave no answer at all: `status`
 * is the HTTP status (or git's exit code), 0 when no answer came back (then build it with `noAnswerError`, so the
 * message says so). Answered 502 by the API.
 */
export class UpstreamError extends Error {
  /** What the user can do about it (a setting to check, a URL to fix), shown beside the message. */
  readonly hint?: string;

  constructor(
    readonly service: string,
    readonly operation: string,
    readonly status: number,
    readonly upstreamMessage: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    const text = upstreamMessage.trim().slice(0, 500);
    super(status === 0 ? `${service}: ${operation} failed: ${text}` : `${service}: ${operation} failed (${status}): ${text}`, options);
    this.name = 'UpstreamError';
    this.hint = options?.hint;
  }
}

/** A remote system gave no answer within its deadline (and the call was ended). Answered 504 by the API. */
export class UpstreamTimeoutError extends UpstreamError {
  constructor(
    service: string,
    operation: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(service, operation, 0, `no answer within ${Math.round(timeoutMs / 1000)}s`, options);
    this.message = `${service}: ${operation} gave no answer within ${Math.round(timeoutMs / 1000)}s`;
    this.name = 'UpstreamTimeoutError';
  }
}

/**
 * The UpstreamError for a call that got no HTTP answer, worded for the person who has to fix it:
 * `nomad: register job failed: no answer from http://127.0.0.1:4646 (connection refused); is Nomad running? set NOMAD_ADDR`.
 * `address` must hold no credentials; `hint` says what to start or which setting to change.
 */
export function noAnswerError(service: string, operation: string, address: string, err: unknown, hint: string): UpstreamError {
  return new UpstreamError(service, operation, 0, `no answer from ${address} (${noAnswerReason(err)}); ${hint}`, { cause: err });
}

const NO_ANSWER_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOENT: 'no such socket',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
};

/** Why a request got no answer, in a few words: the system error code of the innermost cause when there is one. */
export function noAnswerReason(err: unknown): string {
  const innermost = (err as { cause?: unknown })?.cause ?? err;
  return knownNoAnswerReason(err) ?? errorMessage(innermost).split('\n')[0]!.slice(0, 200);
}

/** The reason when `err` (or a cause) is a connection-level failure this module knows, else undefined. */
export function knownNoAnswerReason(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timed out';
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NO_ANSWER_REASONS[code]) return NO_ANSWER_REASONS[code];
    if (typeof code === 'string' && /^ERR_SSL|^ERR_TLS|CERT/.test(code)) return `TLS failed: ${code}`;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0) return knownNoAnswerReason(errors[0]);
  }
  return undefined;
}

/** A child process (git, pg_dump, a reload command) exited non-zero. `argv` must never hold a secret. */
export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderrTail: string,
    options?: { cause?: unknown },
  ) {
    super(`${argv[0] ?? 'command'} exited ${exitCode ?? 'by signal'}: ${stderrTail.trim().slice(-500)}`, options);
    this.name = 'CommandError';
  }
}

/** A webhook delivery was refused; `status` is the HTTP answer (400 malformed, 401 bad signature, 413 too large). */
export class WebhookRejectedError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'WebhookRejectedError';
  }
}

/**
 * A request body could not be read or used, whatever route it was sent to: too large (413), not whole in time (408),
 * cut off or not a JSON object (400), or more than the receiver may hold at once (503). Answered with `status` and
 * `reason`; the webhook route records it as a refused delivery (WebhookRejectedError) instead.
 */
export class RequestBodyError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RequestBodyError';
  }
}

/** Input from a user or an API caller failed validation; `field` names what was wrong. Answered 400/404/409. */
export class InvalidInputError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly status = 400,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'InvalidInputError';
  }
}

/** A requested thing does not exist. Answered 404. */
export class NotFoundError extends Error {
  constructor(
    readonly what: string,
    readonly id: string,
  ) {
    super(`${what} ${id} not found`);
    this.name = 'NotFoundError';
  }
}

/** Configuration failed validation at start-up; `variable` is the NORN_* name at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

/** A pipeline step went past its time limit. */
export class StepTimeoutError extends Error {
  constructor(
    readonly step: string,
    readonly timeoutMs: number,
  ) {
    super(`${step} timed out after ${Math.round(timeoutMs / 1000)}s`);
    this.name = 'StepTimeoutError';
  }
}

/** A step failed for a reason of its own (bad path in the spec, test exit code, failed health gate). */
export class StepFailedError extends Error {
  constructor(
    readonly step: string,
    message: string,
    readonly detail?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StepFailedError';
  }
}

/** The message of any thrown value, for events and logs. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
