import { recordAuditSql, type AuditDraft } from '../audit/log.js';
import type { Sql } from '../db/database.js';
import { Parameters } from '../db/parameters.js';
import { badRequest } from '../lib/errors.js';
import { isIdOf } from '../lib/ids.js';
import type { GrantRecord, RequestRecord, SessionRecord } from './records.js';
import { UNLESS_REFUSED, type Work } from './work.js';

/** The SQL for requests and grants. Callers pass the transaction they work in. */

type RequestPatch = Partial<
  Omit<RequestRecord, 'id' | 'requester_id' | 'resource_id' | 'role' | 'kind' | 'created_at'>
>;
type GrantPatch = Partial<
  Pick<GrantRecord, 'status' | 'expires_at' | 'ended_at' | 'end_reason' | 'ended_by' | 'next_reminder_at'>
>;

// jsonb values go over the wire as JSON text; node-postgres would otherwise send a JS array as a SQL array.
const JSONB_COLUMNS = new Set(['decisions']);

function assignments(parameters: Parameters, patch: object): string {
  return (Object.entries(patch) as [string, unknown][])
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => `${column} = ${placeholder(parameters, column, value)}`)
    .join(', ');
}

/** The INSERT of one row; with `onlyIf`, a condition, the row is inserted only when it holds. */
function insertSql(parameters: Parameters, table: string, record: object, onlyIf?: string): string {
  const entries = Object.entries(record) as [string, unknown][];
  const columns = entries.map(([column]) => column).join(', ');
  const values = entries.map(([column, value]) => placeholder(parameters, column, value)).join(', ');
  // INSERT … SELECT still types each parameter by its target column, as VALUES does.
  return onlyIf === undefined
    ? `INSERT INTO ${table} (${columns}) VALUES (${values})`
    : `INSERT INTO ${table} (${columns}) SELECT ${values} WHERE ${onlyIf}`;
}

function placeholder(parameters: Parameters, column: string, value: unknown): string {
  return JSONB_COLUMNS.has(column)
    ? `${parameters.add(JSON.stringify(value))}::jsonb`
    : parameters.add(value);
}

/**
 * With a grant, the WITH item that inserts it beside a request's own write: an approval costs one round
 * trip, not two. A foreign key is checked at the end of the statement, so the grant may refer to a
 * request inserted by that same statement.
 */
function withGrant(parameters: Parameters, grant: GrantRecord | null): string {
  return grant ? `WITH granted AS (${insertSql(parameters, 'grants', grant)}) ` : '';
}

/** An access request refused because its requester already has one open (pending or queued) for the role. */
export class OpenRequestExists extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} is already open for this role`);
  }
}

/**
 * Inserts a request, and the grant it was approved into, if any. An access request is inserted only if
 * its requester has none open (pending or queued) for the same role; otherwise nothing is written and
 * OpenRequestExists names the open one. The check is part of the insert, so it costs no round trip of its
 * own, and it covers a request written already approved, which the unique index (open requests only) does
 * not. Two open ones that arrive at the same instant are still told apart by that index. The insert is
 * held to go out with the transaction's next statement: for a request approved or sent to its approvers
 * at once, that is the outbox, and the whole transaction is one statement.
 */
export async function insertRequest(
  work: Work,
  record: RequestRecord,
  grant: GrantRecord | null = null,
): Promise<void> {
  const parameters = new Parameters();
  if (record.kind !== 'access') {
    const granted = withGrant(parameters, grant);
    await work.sql.query(granted + insertSql(parameters, 'requests', record), parameters.values);
    return;
  }
  const refusal = openRequestSql(parameters, record);
  const items = [`inserted AS (${insertSql(parameters, 'requests', record, UNLESS_REFUSED)})`];
  // The grant refers to the request; a foreign key is checked at the statement's end, when both are in.
  if (grant) items.push(`granted AS (${insertSql(parameters, 'grants', grant, UNLESS_REFUSED)})`);
  await work.hold({ parameters, refusal, items, refuse: (id) => new OpenRequestExists(id) });
}

type RequestedRole = Pick<RequestRecord, 'requester_id' | 'resource_id' | 'role'>;

/** The SELECT of the access request its requester has open (pending or queued) for a role, if any. */
function openRequestSql(parameters: Parameters, role: RequestedRole): string {
  return `SELECT id FROM requests
           WHERE requester_id = ${parameters.add(role.requester_id)} AND resource_id = ${parameters.add(role.resource_id)}
             AND role = ${parameters.add(role.role)} AND kind = 'access' AND status IN ('pending', 'queued')
           LIMIT 1`;
}

/** The id of the access request its requester has open for a role, if any. */
export async function findOpenRequest(sql: Sql, role: RequestedRole): Promise<string | null> {
  const parameters = new Parameters();
  const [open] = await sql.query<{ id: string }>(openRequestSql(parameters, role), parameters.values);
  return open?.id ?? null;
}

/** Updates a request, inserts the grant it was approved into, if any, and returns the request. */
export async function updateRequest(
  sql: Sql,
  id: string,
  patch: RequestPatch,
  grant: GrantRecord | null = null,
): Promise<RequestRecord> {
  const parameters = new Parameters();
  const granted = withGrant(parameters, grant);
  const [row] = await sql.query<RequestRecord>(
    `${granted}UPDATE requests SET ${assignments(parameters, patch)} WHERE id = ${parameters.add(id)} RETURNING *`,
    parameters.values,
  );
  if (!row) throw new Error(`request ${id} vanished during an update`);
  return row;
}

/** 'update' the request's stored row, or 'insert' a request opened in this transaction, not stored yet. */
export type RequestWrite = 'update' | 'insert';

/** Writes a request's next state (and the grant it was approved into, if any), and returns it. */
export async function writeRequest(
  work: Work,
  request: RequestRecord,
  write: RequestWrite,
  patch: RequestPatch,
  grant: GrantRecord | null = null,
): Promise<RequestRecord> {
  if (write === 'update') return updateRequest(work.sql, request.id, patch, grant);
  const record: RequestRecord = { ...request, ...patch };
  await insertRequest(work, record, grant);
  return record;
}

/** A request by id; an id we could not have issued finds nothing without asking the database. */
export async function findRequest(
  sql: Sql,
  id: string,
  lock: 'lock' | 'read' = 'read',
): Promise<RequestRecord | null> {
  if (!isIdOf('req', id)) return null;
  const [row] = await sql.query<RequestRecord>(
    `SELECT * FROM requests WHERE id = $1${lock === 'lock' ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row ?? null;
}

export async function updateGrant(sql: Sql, id: string, patch: GrantPatch): Promise<GrantRecord> {
  const [row] = await updateGrants(sql, [id], patch);
  if (!row) throw new Error(`grant ${id} vanished during an update`);
  return row;
}

/** Applies one patch to several grants in one statement; their rows, in the order of `ids`. */
export async function updateGrants(
  sql: Sql,
  ids: readonly string[],
  patch: GrantPatch,
): Promise<GrantRecord[]> {
  const parameters = new Parameters();
  const rows = await sql.query<GrantRecord>(
    `UPDATE grants SET ${assignments(parameters, patch)} WHERE id = ANY(${parameters.add(ids)}::text[]) RETURNING *`,
    parameters.values,
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw new Error(`grant ${id} vanished during an update`);
    return row;
  });
}

/** A grant by id; an id we could not have issued finds nothing without asking the database. */
export async function findGrant(
  sql: Sql,
  id: string,
  lock: 'lock' | 'read' = 'read',
): Promise<GrantRecord | null> {
  if (!isIdOf('grt', id)) return null;
  const [row] = await sql.query<GrantRecord>(
    `SELECT * FROM grants WHERE id = $1${lock === 'lock' ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row ?? null;
}

/**
 * Records `draft` if grant `id` is still live at `now`, in one statement: it locks the grant's row, so a
 * revocation that committed first is seen and one that comes later waits for it. Run on its own, outside
 * a transaction, it costs one round trip. Returns the grant as it now is (null if there is none), and
 * whether the entry was recorded.
 */
export async function auditWhileGrantLive(
  sql: Sql,
  id: string,
  now: number,
  draft: AuditDraft,
): Promise<{ grant: GrantRecord | null; audited: boolean }> {
  if (!isIdOf('grt', id)) return { grant: null, audited: false };
  const parameters = new Parameters();
  const grantId = parameters.add(id);
  const live = `EXISTS (SELECT 1 FROM current WHERE status = 'active' AND expires_at > ${parameters.add(new Date(now))})`;
  const [row] = await sql.query<GrantRecord & { audited: boolean }>(
    `WITH current AS (SELECT * FROM grants WHERE id = ${grantId} FOR UPDATE),
          audited AS (${recordAuditSql(parameters, now, [draft], live)} RETURNING id)
     SELECT current.*, EXISTS (SELECT 1 FROM audited) AS audited FROM current`,
    parameters.values,
  );
  if (!row) return { grant: null, audited: false };
  const { audited, ...grant } = row;
  return { grant, audited };
}

/** Each queued request's place in its seat pool's line, 1 for the next to be served. */
export async function queuePositions(
  sql: Sql,
  records: readonly RequestRecord[],
): Promise<Map<string, number>> {
  const queued = records.filter((record) => record.status === 'queued').map((record) => record.id);
  if (queued.length === 0) return new Map();
  const rows = await sql.query<{ id: string; position: number }>(
    `SELECT q.id,
            (SELECT count(*) FROM requests o
              WHERE o.status = 'queued' AND o.resource_id = q.resource_id AND o.role = q.role
                AND o.queue_order <= q.queue_order)::int AS position
       FROM requests q WHERE q.id = ANY($1::text[])`,
    [queued],
  );
  return new Map(rows.map((row) => [row.id, row.position]));
}

/**
 * Serialises every change to one seat pool's occupancy (activation, queueing, promotion) across all
 * instances; released at commit.
 */
export async function lockSeatPool(sql: Sql, resourceId: string, role: string): Promise<void> {
  await sql.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`timebox:seats:${resourceId}/${role}`]);
}

export async function seatsInUse(sql: Sql, resourceId: string, role: string): Promise<number> {
  const [row] = await sql.query<{ count: number }>(
    `SELECT count(*)::int AS count FROM grants WHERE status = 'active' AND resource_id = $1 AND role = $2`,
    [resourceId, role],
  );
  return row?.count ?? 0;
}

export async function seatUsage(sql: Sql): Promise<Map<string, { inUse: number; queued: number }>> {
  const rows = await sql.query<{ pool: string; in_use: number; queued: number }>(
    `SELECT pool, sum(in_use)::int AS in_use, sum(queued)::int AS queued FROM (
       SELECT resource_id || '/' || role AS pool, count(*) AS in_use, 0 AS queued FROM grants WHERE status = 'active' GROUP BY 1
       UNION ALL
       SELECT resource_id || '/' || role, 0, count(*) FROM requests WHERE status = 'queued' GROUP BY 1
     ) usage GROUP BY pool`,
  );
  return new Map(rows.map((row) => [row.pool, { inUse: row.in_use, queued: row.queued }]));
}

/** Adds a value to a query's parameters and returns its placeholder, `$n`. */
export type Param = (value: unknown) => string;

/** The row type of each table that is listed or claimed by name. */
export interface TableRows {
  readonly requests: RequestRecord;
  readonly grants: GrantRecord;
  readonly sessions: SessionRecord;
}

// Newest first: requests and sessions by when they were made, grants by when they started.
const SORT_COLUMN = { requests: 'created_at', grants: 'starts_at', sessions: 'created_at' } as const;

const sortKeyOf = (row: RequestRecord | GrantRecord | SessionRecord): [Date, string] => [
  'created_at' in row ? row.created_at : row.starts_at,
  row.id,
];

/**
 * One page of `table`, newest first (then by id), filtered by the conditions `where` writes. The cursor
 * is the last item's sort key, opaque to clients.
 */
export async function listPage<Table extends keyof TableRows>(
  sql: Sql,
  table: Table,
  request: { readonly cursor?: string | undefined; readonly limit: number },
  where: (param: Param) => string[],
): Promise<{ items: TableRows[Table][]; next: string | null }> {
  const page = readCursor(request.cursor, request.limit);
  const sortColumn = SORT_COLUMN[table];
  const parameters = new Parameters();
  const param: Param = (value) => parameters.add(value);
  const conditions = where(param);
  if (page.after) {
    conditions.push(`(${sortColumn}, id) < (${param(page.after.at)}::timestamptz, ${param(page.after.id)})`);
  }
  const rows = await sql.query<TableRows[Table]>(
    `SELECT * FROM ${table} ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
      ORDER BY ${sortColumn} DESC, id DESC LIMIT ${param(page.limit + 1)}`,
    parameters.values,
  );
  return writeCursor(rows, page, sortKeyOf);
}

/** Keyset pagination: the cursor is the last item's sort key, opaque to clients. */
interface Page {
  readonly limit: number;
  readonly after: { readonly at: string; readonly id: string } | null;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function readCursor(cursor: string | undefined, limit: number): Page {
  if (cursor === undefined) return { limit, after: null };
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      typeof parsed[1] === 'string' &&
      // Only what writeCursor writes: an exact ISO time, and one of our ids. Our rows are stamped from
      // the clock, so no sort key is older than 1970; earlier years are refused here because PostgreSQL
      // rejects year 0 outright and reads two-digit-looking years such as 0001 as 2001.
      ISO_TIME.test(parsed[0]) &&
      new Date(parsed[0]).toISOString() === parsed[0] &&
      Number(parsed[0].slice(0, 4)) >= 1970 &&
      (isIdOf('req', parsed[1]) || isIdOf('grt', parsed[1]) || isIdOf('ses', parsed[1]))
    ) {
      return { limit, after: { at: parsed[0], id: parsed[1] } };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('invalid_cursor', 'The cursor is not one this service returned; start again without it.');
}

function writeCursor<T>(
  rows: readonly T[],
  page: Page,
  key: (row: T) => [Date, string],
): { items: T[]; next: string | null } {
  if (rows.length <= page.limit) return { items: [...rows], next: null };
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  if (last === undefined) return { items, next: null };
  const [at, id] = key(last);
  return { items, next: Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url') };
}
