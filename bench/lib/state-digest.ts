import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TimeboxService, Database } from '../../server/index.js';

/** Every table the service writes: a refused request must leave each one exactly as it was. */
const TABLES = [
  'requests',
  'grants',
  'sessions',
  'totp_steps',
  'idempotency_keys',
  'signing_keys',
  'event_heads',
  'events',
  'audit_log',
  'audit_head',
  'audit_pending',
] as const;
/**
 * Only ever appended to, and by far the largest: their newest sequence number stands for their content
 * (an edit to the audit log is what /v1/audit/verify finds), which keeps the digest cheap enough to take
 * around every request.
 */
const APPEND_ONLY: ReadonlySet<string> = new Set(['events', 'audit_log']);

export interface StateDigest {
  /** Rows per table. */
  readonly rows: Readonly<Record<string, number>>;
  /** The newest audit entry's sequence number (0 when the log is empty). */
  readonly auditSeq: number;
  /** Per table, ':'-separated: an md5 of its rows in a stable order (the newest seq for append-only ones). */
  readonly contentHash: string;
}

const DIGEST_SQL = `SELECT ${TABLES.map(
  (table) =>
    `(SELECT count(*)::int FROM ${table}) AS "${table}_rows", ${
      APPEND_ONLY.has(table)
        ? `(SELECT coalesce(max(seq), 0)::text FROM ${table})`
        : `(SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM ${table} t)`
    } AS "${table}_md5"`,
).join(', ')}, (SELECT coalesce(max(seq), 0)::int FROM audit_log) AS audit_seq`;

export async function digestOf(db: Database): Promise<StateDigest> {
  const [row] = await db.query<Record<string, string | number>>(DIGEST_SQL);
  if (!row) throw new Error('the digest query returned nothing');
  const rows: Record<string, number> = {};
  const hashes: string[] = [];
  for (const table of TABLES) {
    rows[table] = Number(row[`${table}_rows`]);
    hashes.push(String(row[`${table}_md5`]));
  }
  return { rows, auditSeq: Number(row.audit_seq), contentHash: hashes.join(':') };
}

/**
 * A second listener inside the service process, for the bench only: GET /digest answers the state digest
 * read from the service's own database handle (a PGlite folder cannot be opened by a second process),
 * once the audit entries recorded so far are chained: an earlier request's entries, chained between two
 * digests, would otherwise look like a change made by the request in between.
 */
export async function serveDigest(service: Pick<TimeboxService, 'db' | 'auditChainer'>): Promise<string> {
  const server = createServer((request, response) => {
    if (request.url !== '/digest') {
      response.writeHead(404).end();
      return;
    }
    service.auditChainer
      .flush()
      .then(() => digestOf(service.db))
      .then(
        (digest) => {
          response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(digest));
        },
        (error: unknown) => {
          response.writeHead(500).end(error instanceof Error ? error.message : String(error));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/digest`;
}
