import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { DATABASE_UNAVAILABLE } from '../../api/errors.js';
import { databaseUnavailable } from '../db/availability.js';
import { ApiError } from '../lib/errors.js';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const body = (code: string, message: string, details?: Record<string, unknown>): ErrorBody => ({
  error: details ? { code, message, details } : { code, message },
});

/** Fastify's own refusals, reworded for people. */
const FRAMEWORK_ERRORS: Readonly<Record<string, { status: number; code: string; message: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: {
    status: 413,
    code: 'payload_too_large',
    message: 'Request bodies are limited to 64 KiB.',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'Send the body as JSON with Content-Type: application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    message: 'The body is empty; send a JSON object.',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'malformed_json',
    message: 'The body is not valid JSON.',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'bad_request',
    message: 'The Content-Length header does not match the body.',
  },
};

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && 'code' in error && typeof error.code === 'string';
}

/** Seconds a client waits before trying again while the database is away: about two of its probes. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * Every refusal becomes `{error: {code, message, details?}}` with the right status. A 5xx says only that
 * something failed on our side, with the request id to find it in the logs.
 */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: unknown, request, reply) => {
    if (error instanceof ApiError) {
      void reply
        .code(error.status)
        .headers(error.headers ?? {})
        .send(body(error.code, error.message, error.details));
      return;
    }
    const outage = databaseUnavailable(error);
    if (outage) {
      // Never a 500: the service is fine and the client's request was sound; what it can do is wait.
      request.log.warn({ err: outage }, 'answered 503: the database is unavailable');
      void reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send(
          body(
            DATABASE_UNAVAILABLE,
            outage.nothingDone
              ? 'The service cannot reach its database right now, so nothing was done; try again in a few seconds.'
              : 'The service lost its database while answering, so this may not have been done; try again in a few seconds (a request sent again with the same Idempotency-Key is never made twice).',
          ),
        );
      return;
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const part = (error as { validationContext?: string }).validationContext ?? 'body';
      const issues = error.validation.map((issue) => ({
        path: `${part}${issue.instancePath.replaceAll('/', '.').replace(/\.$/, '')}`,
        message: issue.message,
        code: issue.keyword,
      }));
      const first = issues[0];
      const unknownField = first?.code === 'unrecognized_keys';
      void reply
        .code(400)
        .send(
          body(
            unknownField ? 'unknown_field' : 'invalid_request',
            first ? `${first.path}: ${first.message}` : 'The request is not valid.',
            { issues },
          ),
        );
      return;
    }
    if (isFastifyError(error)) {
      const known = FRAMEWORK_ERRORS[error.code];
      if (known) {
        void reply.code(known.status).send(body(known.code, known.message));
        return;
      }
      const status = error.statusCode ?? 500;
      if (status >= 400 && status < 500) {
        void reply.code(status).send(body('bad_request', error.message));
        return;
      }
    }
    request.log.error({ err: error }, 'request failed');
    void reply
      .code(500)
      .send(
        body(
          'internal_error',
          `Something failed on our side; try again, and if it keeps failing give your administrator the request id ${request.id}.`,
        ),
      );
  });

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send(
        body(
          'route_not_found',
          `There is no route ${request.method} ${request.url.split('?')[0] ?? ''}; see /openapi.json.`,
        ),
      );
  });
}
