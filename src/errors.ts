// One catalog of error codes. Each code has a stable string, an HTTP status for the API and an
// exit code for the CLI, so a script can tell "bad spec" from "rollout failed" from "no engine".

export const ERROR_CATALOG = {
  SPEC_INVALID: { status: 400, exit: 2 },
  SPEC_NOT_FOUND: { status: 400, exit: 2 },
  USAGE: { status: 400, exit: 2 },
  ROLLOUT_FAILED: { status: 422, exit: 3 },
  ANALYSIS_FAILED: { status: 422, exit: 3 },
  ABORTED: { status: 409, exit: 3 },
  NOT_FOUND: { status: 404, exit: 4 },
  IMAGE_NOT_FOUND: { status: 422, exit: 4 },
  CONFLICT: { status: 409, exit: 5 },
  DOCKER_UNAVAILABLE: { status: 503, exit: 6 },
  DOCKER_API: { status: 502, exit: 6 },
  REGISTRY_UNAVAILABLE: { status: 502, exit: 6 },
  ACME_FAILED: { status: 502, exit: 6 },
  DAEMON_UNAVAILABLE: { status: 503, exit: 6 },
  PROXY_UNAVAILABLE: { status: 503, exit: 6 },
  PROXY_REJECTED: { status: 502, exit: 6 },
  HEALTH_DEADLINE: { status: 422, exit: 3 },
  INSTANCE_EXITED: { status: 422, exit: 3 },
  TIMEOUT: { status: 504, exit: 7 },
  INTERNAL: { status: 500, exit: 1 },
  // issue 14: who may do what. 8 = not allowed (no valid token, or a role that is not enough).
  UNAUTHENTICATED: { status: 401, exit: 8 },
  FORBIDDEN: { status: 403, exit: 8 },
  AUDIT_BROKEN: { status: 409, exit: 9 },
  UNSAFE_HOME: { status: 500, exit: 2 },
  POLICY_REFUSED: { status: 422, exit: 10 },
  IMAGE_REFUSED: { status: 422, exit: 11 },
  PREFLIGHT_FAILED: { status: 422, exit: 3 },
  // issue 16: the spec asks for what this host cannot do (docker checkpoint without CRIU support).
  UNSUPPORTED: { status: 422, exit: 2 },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export class HotswapError extends Error {
  override readonly name: string = 'HotswapError';
  readonly code: ErrorCode;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options?: { details?: unknown; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options?.details;
  }

  get status(): number {
    return ERROR_CATALOG[this.code].status;
  }

  get exitCode(): number {
    return ERROR_CATALOG[this.code].exit;
  }

  toJSON(): { code: ErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isHotswapError(err: unknown): err is HotswapError {
  return err instanceof HotswapError;
}

/** Rebuilds an error that crossed the API as JSON, keeping its code. */
export function errorFromJSON(body: unknown): HotswapError {
  const obj = (body ?? {}) as { code?: string; message?: string; details?: unknown };
  const code = (obj.code && obj.code in ERROR_CATALOG ? obj.code : 'INTERNAL') as ErrorCode;
  return new HotswapError(code, obj.message ?? 'unknown error', { details: obj.details });
}

export function toHotswapError(err: unknown): HotswapError {
  if (err instanceof HotswapError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new HotswapError('INTERNAL', message, { cause: err });
}
