import type { Database, Sql } from '../db/database.js';
import { Parameters } from '../db/parameters.js';
import type { AuditEntryView } from '../../api/schemas.js';
import { bodyAroundSeq, chainHash, GENESIS_HASH } from './chain.js';

export interface AuditDraft {
  /** null for the service itself (expiry, lapses, escalations). */
  readonly actorId: string | null;
  readonly action: string;
  readonly subjectType: 'request' | 'grant' | 'session' | 'resource' | 'user';
  readonly subjectId: string;
  readonly data: Readonly<Record<string, unknown>>;
}

interface AuditRow {
  readonly seq: number;
  readonly at: Date;
  readonly actor_id: string | null;
  readonly action: string;
  readonly subject_type: string;
  readonly subject_id: string;
  readonly data: Record<string, unknown>;
  readonly prev_hash: string;
  readonly hash: string;
}

/**
 * Records entries inside the caller's transaction, unchained: they commit with the change they describe,
 * or not at all. `chainPending` numbers, hashes and appends them to the log soon after (the service's
 * AuditChainer runs it shortly after each commit, and before any read of the log). Chaining outside the
 * writer's transaction takes the chain's one global lock off every request: a writer used to hold it from
 * its append to its commit, which serialised every writing transaction, commit and all, across instances.
 */
export async function recordAudit(sql: Sql, atMs: number, drafts: readonly AuditDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  const parameters = new Parameters();
  await sql.query(recordAuditSql(parameters, atMs, drafts), parameters.values);
}

/**
 * The insert that records `drafts`, to be one part of a larger statement (a WITH item), so an entry costs
 * no round trip of its own. With `onlyIf` (an SQL condition) nothing is recorded unless it holds.
 */
export function recordAuditSql(
  parameters: Parameters,
  atMs: number,
  drafts: readonly AuditDraft[],
  onlyIf?: string,
): string {
  const at = new Date(atMs).toISOString();
  // The canonical JSON around the sequence number is made here, in code, so the database can finish the
  // hash when it numbers the entry; verifyAudit recomputes every hash in code.
  const bodies = drafts.map((draft) => bodyAroundSeq({ at, ...draft }));
  // Column by column, in audit_pending's order below, with the SQL type of each array.
  const columns: [string, unknown[]][] = [
    ['text', drafts.map((draft) => draft.actorId)],
    ['text', drafts.map((draft) => draft.action)],
    ['text', drafts.map((draft) => draft.subjectType)],
    ['text', drafts.map((draft) => draft.subjectId)],
    ['jsonb', drafts.map((draft) => JSON.stringify(draft.data))],
    ['text', bodies.map((body) => body.before)],
    ['text', bodies.map((body) => body.after)],
  ];
  const unnested = columns.map(([type, values]) => `${parameters.add(values)}::${type}[]`).join(', ');
  return `INSERT INTO audit_pending (at, actor_id, action, subject_type, subject_id, data, body_before_seq, body_after_seq)
     SELECT ${parameters.add(at)}::timestamptz, * FROM unnest(${unnested})${onlyIf ? ` WHERE ${onlyIf}` : ''}`;
}

/** At most this many recorded entries are chained per transaction. */
export const CHAIN_BATCH = 500;

/**
 * Chains the oldest recorded entries (up to `limit`) onto the log, in one transaction: it locks the head
 * first, then takes the entries, numbers and hashes them in order of recording, appends them and moves the
 * head. The head is locked before any recorded row, so two instances chaining at once wait on one lock
 * and never on each other's rows. Returns how many entries it chained.
 */
export async function chainPending(db: Database, limit = CHAIN_BATCH): Promise<number> {
  return db.transaction(async (sql) => {
    const [head] = await sql.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE',
    );
    if (!head) throw new Error('audit_head is missing: the schema is damaged');
    // sha256 over the UTF-8 of `prev_hash \n body`, as chainHash computes it.
    const [moved] = await sql.query<{ seq: number }>(
      `WITH RECURSIVE taken AS (
         DELETE FROM audit_pending WHERE id IN (SELECT id FROM audit_pending ORDER BY id LIMIT $1)
         RETURNING *
       ), draft AS (
         SELECT taken.*, row_number() OVER (ORDER BY id) AS n FROM taken
       ), head AS (
         SELECT $2::bigint AS seq, $3::text AS hash -- as locked above
       ), chained AS (
         SELECT d.n, head.seq + 1 AS seq, head.hash AS prev_hash,
                encode(sha256(convert_to(head.hash || E'\\n' || d.body_before_seq || (head.seq + 1) || d.body_after_seq, 'UTF8')), 'hex') AS hash
           FROM head JOIN draft d ON d.n = 1
         UNION ALL
         SELECT d.n, chained.seq + 1, chained.hash,
                encode(sha256(convert_to(chained.hash || E'\\n' || d.body_before_seq || (chained.seq + 1) || d.body_after_seq, 'UTF8')), 'hex')
           FROM chained JOIN draft d ON d.n = chained.n + 1
       ), appended AS (
         INSERT INTO audit_log (seq, at, actor_id, action, subject_type, subject_id, data, prev_hash, hash)
         SELECT chained.seq, d.at, d.actor_id, d.action, d.subject_type, d.subject_id, d.data, chained.prev_hash, chained.hash
           FROM chained JOIN draft d USING (n)
       )
       UPDATE audit_head SET seq = last.seq, hash = last.hash
         FROM (SELECT seq, hash FROM chained ORDER BY n DESC LIMIT 1) AS last
        WHERE audit_head.id = 1
       RETURNING audit_head.seq`,
      [limit, head.seq, head.hash],
    );
    return moved ? moved.seq - head.seq : 0;
  });
}

function toView(row: AuditRow): AuditEntryView {
  return {
    seq: row.seq,
    at: row.at.toISOString(),
    actorId: row.actor_id,
    action: row.action,
    subjectType: row.subject_type,
    subjectId: row.subject_id,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export async function listAudit(sql: Sql, afterSeq: number, limit: number): Promise<AuditEntryView[]> {
  const rows = await sql.query<AuditRow>('SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2', [
    afterSeq,
    limit,
  ]);
  return rows.map(toView);
}

/** Every entry in order, a page at a time, for export and verification of logs of any size. */
export async function* allAuditEntries(db: Sql, pageSize = 1000): AsyncGenerator<AuditEntryView> {
  let after = 0;
  for (;;) {
    const page = await listAudit(db, after, pageSize);
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.seq;
  }
}

export type AuditVerdict = { ok: true; entries: number } | { ok: false; firstBadSeq: number; reason: string };

/**
 * Walks the chain from the first entry: finds an edited entry (its hash no longer matches), a deleted one
 * (a gap in the sequence, or a head that points past the end) and an inserted one (a broken link).
 * The pages and the head are read in one snapshot: appends committed meanwhile are simply not seen,
 * rather than making the head look ahead of the entries read before it.
 */
export async function verifyAudit(db: Database): Promise<AuditVerdict> {
  return db.transaction(async (sql) => {
    await sql.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return verifyChain(sql);
  });
}

async function verifyChain(db: Sql): Promise<AuditVerdict> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for await (const entry of allAuditEntries(db)) {
    if (entry.seq !== expectedSeq) {
      return {
        ok: false,
        firstBadSeq: expectedSeq,
        reason: `entry ${expectedSeq} is missing: the next entry is ${entry.seq}`,
      };
    }
    if (entry.prevHash !== prevHash) {
      return {
        ok: false,
        firstBadSeq: entry.seq,
        reason: `entry ${entry.seq} does not link to the entry before it`,
      };
    }
    if (chainHash(prevHash, entry) !== entry.hash) {
      return {
        ok: false,
        firstBadSeq: entry.seq,
        reason: `entry ${entry.seq} was changed after it was written`,
      };
    }
    prevHash = entry.hash;
    expectedSeq += 1;
  }
  const lastSeq = expectedSeq - 1;
  const [head] = await db.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_head WHERE id = 1',
  );
  if (!head) return { ok: false, firstBadSeq: 1, reason: 'the head of the log is missing' };
  if (head.seq > lastSeq) {
    return {
      ok: false,
      firstBadSeq: lastSeq + 1,
      reason: `entries ${lastSeq + 1} to ${head.seq} are missing from the end of the log`,
    };
  }
  if (head.seq < lastSeq) {
    return {
      ok: false,
      firstBadSeq: head.seq + 1,
      reason: `entries after ${head.seq} were added outside the service`,
    };
  }
  if (head.hash !== prevHash) {
    return {
      ok: false,
      firstBadSeq: Math.max(1, lastSeq),
      reason: 'the head of the log does not match its last entry',
    };
  }
  return { ok: true, entries: lastSeq };
}
