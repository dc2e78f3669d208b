import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { accessReviewQuery } from '../../../api/insights-schemas.js';
import { errorBody } from '../../../api/schemas.js';
import { reviewCsv, reviewRows, reviewStamp } from '../../insights/access-review.js';
import { reviewHtml } from '../../insights/access-review-html.js';
import { periodOf } from '../../insights/period.js';
import { forbidden } from '../../lib/errors.js';
import { actorOf, type RouteContext } from '../context.js';

// The printable page carries its own styles and nothing else: no script, no outside resource.
const HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

export const reportRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/reports/access-review',
      {
        schema: {
          tags: ['reports'],
          summary:
            'Every grant of a period for an access review, as CSV or a printable page (administrators, auditors)',
          description:
            'Each grant live in the period: requester, role, reason, ticket, approvers and their decisions, start, end and end reason; stamped with the audit chain’s verification and the audit entries the period covers (also in the X-Timebox-Audit-Verified and X-Timebox-Audit-Range headers). Streamed: text/csv or text/html. The period defaults to the last 30 days, at most 400.',
          querystring: accessReviewQuery,
          // Streamed, so never serialised: the schema only documents it.
          response: {
            200: z.unknown().describe('the review, streamed'),
            400: errorBody,
            401: errorBody,
            403: errorBody,
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        if (!actor.isAdmin && !actor.isAuditor)
          throw forbidden('admin_only', 'Only administrators and auditors may read access reviews.');
        const now = context.clock.now();
        const period = periodOf(request.query, now);
        // Every entry committed before this read is on the log, so the stamp covers it.
        await context.auditChainer.flush();
        const stamp = await reviewStamp(context.db, period, now);
        const rows = reviewRows(context.db, period);
        const { format } = request.query;
        const name = `timebox-access-review-${new Date(period.from).toISOString().slice(0, 10)}-${new Date(period.to).toISOString().slice(0, 10)}`;
        void reply
          .header('cache-control', 'no-store')
          .header('x-timebox-audit-verified', String(stamp.verdict.ok))
          .header(
            'x-timebox-audit-range',
            stamp.audit.firstSeq === null ? 'none' : `${stamp.audit.firstSeq}-${stamp.audit.lastSeq ?? ''}`,
          );
        if (format === 'html') {
          void reply
            .header('content-type', 'text/html; charset=utf-8')
            .header('content-security-policy', HTML_POLICY);
          return reply.send(Readable.from(reviewHtml(rows, stamp)));
        }
        void reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${name}.csv"`);
        return reply.send(Readable.from(reviewCsv(rows, stamp)));
      },
    );
  };
