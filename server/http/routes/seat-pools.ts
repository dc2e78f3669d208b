import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { seatPoolUtilisation } from '../../domain/seat-pools.js';
import { badRequest, forbidden } from '../../lib/errors.js';
import { actorOf, type RouteContext } from '../context.js';
import { errorBody } from '../../../api/schemas.js';
import { seatPoolReportQuery, seatPoolReports } from '../../../api/admin-schemas.js';

const DAY_MS = 86_400_000;
const MAX_PERIOD_DAYS = 366;
// Times before 1970 or from the year 10000 on are valid ISO text that PostgreSQL will not compare with.
const LAST_INSTANT = Date.parse('10000-01-01T00:00:00.000Z');

export const seatPoolRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/seat-pools/utilization',
      {
        schema: {
          tags: ['catalog'],
          summary: 'How each licence seat pool was used over a period (administrators)',
          description:
            'Peak and average seats in use, time spent queued, and the seat-hours that named seats held all the time would have left idle. The period defaults to the last 7 days.',
          querystring: seatPoolReportQuery,
          response: { 200: seatPoolReports, 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        if (!actorOf(request).isAdmin)
          throw forbidden('admin_only', 'Only administrators may read seat-pool utilisation.');
        const now = context.clock.now();
        const to = request.query.to === undefined ? now : Date.parse(request.query.to);
        const from = request.query.from === undefined ? to - 7 * DAY_MS : Date.parse(request.query.from);
        if (from < 0 || to >= LAST_INSTANT) {
          throw badRequest(
            'invalid_period',
            'Ask for a period between 1970 and the year 9999: no grant lies outside it.',
          );
        }
        if (from >= to) {
          throw badRequest(
            'invalid_period',
            'The period must start before it ends: send a from earlier than to.',
            {
              from: new Date(from).toISOString(),
              to: new Date(to).toISOString(),
            },
          );
        }
        if (to - from > MAX_PERIOD_DAYS * DAY_MS) {
          throw badRequest(
            'invalid_period',
            `Ask for at most ${MAX_PERIOD_DAYS} days at a time; split a longer period into several reports.`,
          );
        }
        const items = await seatPoolUtilisation(context.db, context.policy, { from, to }, now);
        return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), items };
      },
    );
  };
