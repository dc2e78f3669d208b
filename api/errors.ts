/**
 * A failure the user can act on: a stable code, a sentence to show, and whether trying again later may
 * help. Service errors keep the service's code and message; network failures get ours.
 */
export class ServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The HTTP status, or null when the service was not reached. */
    readonly status: number | null,
    readonly retryable: boolean,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ServiceError';
  }
}

/** Session codes the service answers with when a token no longer works. */
export const SESSION_ENDED_CODES = new Set([
  'token_expired',
  'token_revoked',
  'token_idle',
  'invalid_token',
  'missing_token',
]);

export function isSessionEnded(error: unknown): error is ServiceError {
  return error instanceof ServiceError && error.status === 401 && SESSION_ENDED_CODES.has(error.code);
}

/**
 * 503: the service cannot reach its database; the answer carries Retry-After. Nothing is lost: try again
 * (with the same Idempotency-Key for a new request).
 */
export const DATABASE_UNAVAILABLE = 'database_unavailable';

/** A refusal by the client itself (not the service): no keychain, nothing to copy, not signed in. */
export class UserError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
