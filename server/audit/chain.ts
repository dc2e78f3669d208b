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

/**
 * An entry's canonical JSON without its sequence number, as the text before and after it: the
 * database numbers entries as it appends them (under the head's lock, in the same statement), so it
 * finishes the hash itself. `before + seq + after` is exactly chainHash's body: RFC 8785 sorts the keys
 * (action, actorId, at, data, seq, subjectId, subjectType) and writes an integer as its decimal digits.
 */
export function bodyAroundSeq(fields: Omit<ChainedFields, 'seq'>): { before: string; after: string } {
  const upToData = canonicalize({
    action: fields.action,
    actorId: fields.actorId,
    at: fields.at,
    data: fields.data,
  });
  const fromSubject = canonicalize({ subjectId: fields.subjectId, subjectType: fields.subjectType });
  if (upToData === undefined || fromSubject === undefined)
    throw new Error('an audit entry cannot be written as JSON');
  return { before: `${upToData.slice(0, -1)},"seq":`, after: `,${fromSubject.slice(1)}` };
}
