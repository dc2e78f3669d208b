import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { ApiError, badRequest } from '../lib/errors.js';
import type { Work } from './work.js';

export interface StoredResponse<Status extends number, Body> {
  readonly statusCode: Status;
  readonly body: Body;
}

const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export function checkIdempotencyKey(key: string | undefined): string | null {
  if (key === undefined) return null;
  if (!KEY_PATTERN.test(key)) {
    throw badRequest(
      'invalid_idempotency_key',
      'The Idempotency-Key header must be 1 to 200 visible ASCII characters.',
    );
  }
  return key;
}

/**
 * Runs `create` once per (user, key): a retry with the same key and body gets the first response and
 * creates nothing. The key row is inserted first in the same transaction, so on PostgreSQL a concurrent
 * retry waits on it and then reads the stored answer; a failed attempt rolls back and stores nothing.
 */
export async function once<Response extends StoredResponse<number, unknown>>(
  work: Work,
  userId: string,
  key: string | null,
  request: { readonly route: string; readonly body: unknown },
  create: () => Promise<Response>,
): Promise<Response> {
  if (key === null) return create();
  const fingerprint = createHash('sha256')
    .update(`${request.route}\n${canonicalize(request.body ?? null) ?? ''}`)
    .digest('hex');
  const claimed = await work.sql.query(
    `INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
    [userId, key, fingerprint, new Date(work.now)],
  );
  if (claimed.length === 0) {
    const [stored] = await work.sql.query<{
      fingerprint: string;
      status_code: number | null;
      response: unknown;
    }>('SELECT fingerprint, status_code, response FROM idempotency_keys WHERE user_id = $1 AND key = $2', [
      userId,
      key,
    ]);
    if (!stored || stored.fingerprint !== fingerprint || stored.status_code === null) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was already used for a different request; send a new key for a new request.',
      );
    }
    // What was stored is what `create` returned for this same route and body.
    return { statusCode: stored.status_code, body: stored.response } as Response;
  }
  const response = await create();
  await work.sql.query(
    'UPDATE idempotency_keys SET status_code = $3, response = $4::jsonb WHERE user_id = $1 AND key = $2',
    [userId, key, response.statusCode, JSON.stringify(response.body)],
  );
  return response;
}
