import { stringify } from 'csv-stringify/sync';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { allAuditEntries, listAudit, verifyAudit } from '../../audit/log.js';
import type { Database } from '../../db/database.js';
import type { AuditEntryView } from '../../../api/schemas.js';
import { forbidden } from '../../lib/errors.js';
import { actorOf, type RouteContext } from '../context.js';
import {
  auditEntryView,
  auditExportQuery,
  auditListQuery,
  auditVerifyView,
  errorBody,
  listOf,
} from '../../../api/schemas.js';

const CSV_COLUMNS = [
  'seq',
  'at',
  'actorId',
  'action',
  'subjectType',
  'subjectId',
  'data',
  'prevHash',
  'hash',
] as const;

function csvRow(entry: AuditEntryView): string {
  return stringify([
    CSV_COLUMNS.map((column) => (column === 'data' ? JSON.stringify(entry.data) : (entry[column] ?? ''))),
  ]);
}

async function* exportLines(db: Database, format: 'jsonl' | 'csv'): AsyncGenerator<string> {
  if (format === 'csv') yield stringify([[...CSV_COLUMNS]]);
  for await (const entry of allAuditEntries(db))
    yield format === 'csv' ? csvRow(entry) : `${JSON.stringify(entry)}\n`;
}

export const auditRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook('preHandler', async (request) => {
      const actor = actorOf(request);
      if (!actor.isAdmin && !actor.isAuditor)
        throw forbidden('admin_only', 'Only administrators and auditors may read the audit log.');
      // Every entry committed before this read is on the log when it is read, whichever instance wrote it.
      await context.auditChainer.flush();
    });

    const refusals = { 400: errorBody, 401: errorBody, 403: errorBody } as const;

    app.get(
      '/v1/audit',
      {
        schema: {
          tags: ['audit'],
          summary: 'Audit entries after a sequence number, oldest first',
          querystring: auditListQuery,
          response: { 200: listOf(auditEntryView), ...refusals },
        },
      },
      async (request) => {
        const { after, limit } = request.query;
        const items = await listAudit(context.db, after, limit + 1);
        const page = items.slice(0, limit);
        return { items: page, next: items.length > limit ? String(page.at(-1)?.seq ?? after) : null };
      },
    );

    app.get(
      '/v1/audit/verify',
      {
        schema: {
          tags: ['audit'],
          summary: 'Check the hash chain: finds edited, inserted and deleted entries',
          response: { 200: auditVerifyView, ...refusals },
        },
      },
      async () => verifyAudit(context.db),
    );

    app.get(
      '/v1/audit/export',
      {
        schema: {
          tags: ['audit'],
          summary: 'The whole log as a JSON Lines or CSV download',
          description:
            'Answers with application/x-ndjson (one entry per line) or text/csv (a header row, then one entry per row).',
          querystring: auditExportQuery,
          // Streamed, so never serialised: the schema only documents it.
          response: { 200: z.unknown().describe('the log, streamed'), ...refusals },
        },
      },
      async (request, reply) => {
        const { format } = request.query;
        const stamp = new Date(context.clock.now()).toISOString().replaceAll(':', '-');
        void reply
          .header(
            'content-type',
            format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
          )
          .header('content-disposition', `attachment; filename="timebox-audit-${stamp}.${format}"`)
          .header('cache-control', 'no-store');
        return reply.send(Readable.from(exportLines(context.db, format)));
      },
    );
  };
