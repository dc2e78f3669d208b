/**
 * An error a client can act on: the HTTP status, a stable snake_case code and a sentence for a person.
 * Everything the service refuses is one of these; anything else is a bug and answers a bare 500.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, such as Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (code: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(400, code, message, details);

export const forbidden = (code: string, message: string): ApiError => new ApiError(403, code, message);

export const notFound = (what: 'request' | 'grant' | 'resource', id: string): ApiError =>
  new ApiError(404, `${what}_not_found`, `No ${what} with id "${id}" exists, or you may not see it.`);

export const conflict = (code: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(409, code, message, details);
