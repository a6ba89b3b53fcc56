// The typed errors shared by the whole service. Callers branch on `instanceof` and fields, never on message text.
// The HTTP error middleware maps them to status codes and shows messages only for 4xx.

/** A remote API (Nomad, a forge, the registry, a git remote) answered with an error. Answered 502 by the API. */
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
    super(`${service}: ${operation} failed (${status}): ${upstreamMessage.trim().slice(0, 500)}`, options);
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
