import { stringify } from 'csv-stringify/sync';
import { verifyAudit, type AuditVerdict } from '../audit/log.js';
import type { Database } from '../db/database.js';
import type { Sql } from '../db/sql.js';
import type { Decision } from '../policy/engine.js';
import type { Period } from './period.js';

/** One grant of the review, as a person reads it. */
export interface ReviewRow {
  readonly grantId: string;
  readonly requestId: string;
  readonly resourceId: string;
  readonly role: string;
  readonly requester: string;
  readonly requestedAt: string;
  readonly reason: string;
  readonly ticket: string;
  /** Who decided, in order: "bob approved at …". Empty when the policy approved it at once. */
  readonly approvers: readonly string[];
  readonly decisions: readonly Decision[];
  readonly start: string;
  /** When it ended, or its expiry while it is still active. */
  readonly end: string;
  readonly endReason: string;
  readonly endedBy: string;
  readonly status: string;
}

/** What the review is stamped with: whether the audit chain verifies, and its entries in the period. */
export interface ReviewStamp {
  readonly period: Period;
  readonly generatedAt: number;
  readonly verdict: AuditVerdict;
  /** The audit entries recorded within the period; null bounds when there are none. */
  readonly audit: {
    readonly firstSeq: number | null;
    readonly lastSeq: number | null;
    readonly entries: number;
  };
}

interface GrantRow {
  readonly id: string;
  readonly request_id: string;
  readonly user_id: string;
  readonly resource_id: string;
  readonly role: string;
  readonly status: string;
  /** Times come as ISO text made by the database: parsing 300,000 dates in JavaScript took seconds. */
  readonly starts_at: string;
  readonly ends_at: string;
  readonly end_reason: string | null;
  readonly ended_by: string | null;
  readonly reason: string;
  readonly ticket: string | null;
  readonly requested_at: string;
  readonly decisions: readonly Decision[];
}

const PAGE = 2000;
/** A time as JavaScript's toISOString writes it, made by the database. */
const isoText = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** Rows turned into CSV text at once: one chunk on the wire per batch, not per row. */
const CSV_BATCH = 500;

/**
 * Every grant that was live at some moment of the period (started before its end, ended or expires after
 * its start), oldest first, read a page at a time by (start, id) so a long period streams in flat memory.
 */
export async function* reviewRows(sql: Sql, period: Period): AsyncGenerator<ReviewRow> {
  const select = `SELECT g.id, g.request_id, g.user_id, g.resource_id, g.role, g.status,
              ${isoText('g.starts_at')} AS starts_at, ${isoText('coalesce(g.ended_at, g.expires_at)')} AS ends_at,
              g.end_reason, g.ended_by, r.reason, r.ticket, ${isoText('r.created_at')} AS requested_at, r.decisions
         FROM grants g JOIN requests r ON r.id = g.request_id
        WHERE g.starts_at < $2 AND coalesce(g.ended_at, g.expires_at) > $1`;
  // Two statements rather than one with an optional cursor: each keeps its plan on the index by start.
  const bounds = [new Date(period.from), new Date(period.to)];
  let page = await sql.query<GrantRow>(`${select} ORDER BY g.starts_at, g.id LIMIT ${PAGE}`, bounds);
  for (;;) {
    for (const row of page) yield reviewRow(row);
    const last = page.at(-1);
    if (!last || page.length < PAGE) return;
    page = await sql.query<GrantRow>(
      `${select} AND (g.starts_at, g.id) > ($3::timestamptz, $4) ORDER BY g.starts_at, g.id LIMIT ${PAGE}`,
      [...bounds, last.starts_at, last.id],
    );
  }
}

function reviewRow(row: GrantRow): ReviewRow {
  return {
    grantId: row.id,
    requestId: row.request_id,
    resourceId: row.resource_id,
    role: row.role,
    requester: row.user_id,
    requestedAt: row.requested_at,
    reason: row.reason,
    ticket: row.ticket ?? '',
    approvers: [...new Set(row.decisions.map((decision) => decision.approverId))],
    decisions: row.decisions,
    start: row.starts_at,
    end: row.ends_at,
    endReason: row.end_reason ?? (row.status === 'active' ? 'active' : ''),
    endedBy: row.ended_by ?? '',
    status: row.status,
  };
}

/** Verifies the whole chain, and names the entries of the period. */
export async function reviewStamp(db: Database, period: Period, now: number): Promise<ReviewStamp> {
  const verdict = await verifyAudit(db);
  const [range] = await db.query<{ first_seq: string | null; last_seq: string | null; entries: number }>(
    `SELECT min(seq)::text AS first_seq, max(seq)::text AS last_seq, count(*)::int AS entries
       FROM audit_log WHERE at >= $1 AND at < $2`,
    [new Date(period.from), new Date(period.to)],
  );
  return {
    period,
    generatedAt: now,
    verdict,
    audit: {
      firstSeq: range?.first_seq == null ? null : Number(range.first_seq),
      lastSeq: range?.last_seq == null ? null : Number(range.last_seq),
      entries: range?.entries ?? 0,
    },
  };
}

/** "verified: 1,234 entries intact" or what broke, for the report's header. */
export function verdictText(verdict: AuditVerdict): string {
  return verdict.ok
    ? `verified: the chain of ${verdict.entries} entries is intact`
    : `NOT verified: ${verdict.reason} (entry ${verdict.firstBadSeq})`;
}

export function rangeText(stamp: ReviewStamp): string {
  const { firstSeq, lastSeq, entries } = stamp.audit;
  return firstSeq === null || lastSeq === null
    ? 'no audit entries in the period'
    : `audit entries ${firstSeq} to ${lastSeq} (${entries} entries) cover the period`;
}

/** "bob approved 2030-01-07T09:01:00.000Z: fine" for each decision, in order. */
export function decisionText(decision: Decision): string {
  const verb = decision.decision === 'approve' ? 'approved' : 'denied';
  const override = decision.override === true ? ' (administrator override)' : '';
  return `${decision.approverId} ${verb} ${decision.at}${override}${decision.comment ? `: ${decision.comment}` : ''}`;
}

const CSV_COLUMNS = [
  'grantId',
  'requestId',
  'resourceId',
  'role',
  'requester',
  'requestedAt',
  'reason',
  'ticket',
  'approvers',
  'decisions',
  'start',
  'end',
  'endReason',
  'endedBy',
  'status',
] as const;

/**
 * A cell a spreadsheet would run as a formula (OWASP's CSV injection) is kept as text with a leading
 * apostrophe: reasons, tickets and comments are written by requesters and approvers.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const inertCell = (value: string): string => (FORMULA_START.test(value) ? `'${value}` : value);

/**
 * The review as CSV: comment lines (`#`) with the period and the audit stamp, a header row, then one row
 * per grant. Readers that take comments (csv-parse's `comment: '#'`, pandas' `comment='#'`) skip them.
 */
export async function* reviewCsv(rows: AsyncIterable<ReviewRow>, stamp: ReviewStamp): AsyncGenerator<string> {
  yield `# Timebox access review from ${new Date(stamp.period.from).toISOString()} to ${new Date(stamp.period.to).toISOString()}, generated ${new Date(stamp.generatedAt).toISOString()}\n`;
  yield `# Audit chain ${verdictText(stamp.verdict)}; ${rangeText(stamp)}\n`;
  yield stringify([[...CSV_COLUMNS]]);
  let batch: string[][] = [];
  for await (const row of rows) {
    batch.push(
      CSV_COLUMNS.map((column) => {
        if (column === 'approvers') return inertCell(row.approvers.join('; '));
        if (column === 'decisions') return inertCell(row.decisions.map(decisionText).join('; '));
        return inertCell(row[column]);
      }),
    );
    if (batch.length === CSV_BATCH) {
      yield stringify(batch);
      batch = [];
    }
  }
  if (batch.length > 0) yield stringify(batch);
}
