import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  readonly seq: number;
  readonly at: string;
  readonly actorId: string | null;
  readonly action: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * An entry's hash covers its predecessor's hash and its own fields in RFC 8785 canonical JSON, so the
 * same entry hashes the same after a round trip through jsonb (which reorders keys).
 */
export function chainHash(prevHash: string, fields: ChainedFields): string {
  const body = canonicalize({
    seq: fields.seq,
    at: fields.at,
    actorId: fields.actorId,
    action: fields.action,
    subjectType: fields.subjectType,
    subjectId: fields.subjectId,
    data: fields.data,
  });
  return createHash('sha256')
    .update(`${prevHash}\n${body ?? ''}`)
    .digest('hex');
}
