import type { Database, Sql } from '../db/database.js';
import type { AuditEntryView } from '../http/schemas.js';
import { chainHash, GENESIS_HASH } from './chain.js';

export interface AuditDraft {
  /** null for the service itself (expiry, lapses, escalations). */
  readonly actorId: string | null;
  readonly action: string;
  readonly subjectType: 'request' | 'grant' | 'session' | 'resource';
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
 * Appends entries inside the caller's transaction. Locking the head row serialises appends across
 * instances, so sequence numbers have no gaps and each entry links to the one committed before it.
 */
export async function appendAudit(sql: Sql, atMs: number, drafts: readonly AuditDraft[]): Promise<void> {
  if (drafts.length === 0) return;
  const [head] = await sql.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE',
  );
  if (!head) throw new Error('audit_head is missing: the schema is damaged');
  const at = new Date(atMs).toISOString();
  let seq = head.seq;
  let prevHash = head.hash;
  const rows = drafts.map((draft) => {
    seq += 1;
    const hash = chainHash(prevHash, { seq, at, ...draft });
    const row = [
      seq,
      at,
      draft.actorId,
      draft.action,
      draft.subjectType,
      draft.subjectId,
      JSON.stringify(draft.data),
      prevHash,
      hash,
    ];
    prevHash = hash;
    return row;
  });
  const columns = [
    'seq',
    'at',
    'actor_id',
    'action',
    'subject_type',
    'subject_id',
    'data',
    'prev_hash',
    'hash',
  ];
  // One statement for the entries and the new head: every appending transaction holds the head's lock
  // until it commits, so each round trip saved here is saved for every writer.
  await sql.query(
    `WITH appended AS (
       INSERT INTO audit_log (${columns.join(', ')})
       SELECT seq, at, actor_id, action, subject_type, subject_id, data::jsonb, prev_hash, hash
         FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])
           AS t(${columns.join(', ')}))
     UPDATE audit_head SET seq = $10, hash = $11 WHERE id = 1`,
    [...columns.map((_, index) => rows.map((row) => row[index])), seq, prevHash],
  );
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
