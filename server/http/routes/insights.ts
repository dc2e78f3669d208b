import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  insightsPeriodQuery,
  recommendations,
  roleInsights as roleInsightsView,
  seatSeries as seatSeriesView,
  seatSeriesQuery,
} from '../../../api/insights-schemas.js';
import { errorBody } from '../../../api/schemas.js';
import { seatPoolUtilisation } from '../../domain/seat-pools.js';
import { periodOf } from '../../insights/period.js';
import { recommend } from '../../insights/recommendations.js';
import { roleInsights } from '../../insights/role-insights.js';
import { poolNamed, seatSeries } from '../../insights/seat-series.js';
import { forbidden } from '../../lib/errors.js';
import { actorOf, type RouteContext } from '../context.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export const insightRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.addHook('preHandler', async (request) => {
      if (!actorOf(request).isAdmin) throw forbidden('admin_only', 'Only administrators may read insights.');
    });
    const refusals = { 400: errorBody, 401: errorBody, 403: errorBody } as const;

    /** The roles' figures over a period, with every credential fetch committed so far on the audit log. */
    const figures = async (period: { from: number; to: number }) => {
      await context.auditChainer.flush();
      return roleInsights(context.db, context.policy, period);
    };

    app.get(
      '/v1/insights/roles',
      {
        schema: {
          tags: ['insights'],
          summary: 'How each role was asked for and used over a period (administrators)',
          description:
            'Per resource and role: requests made in the period and their outcomes, time to decision, requested against used duration, grants ended early, credentials never fetched and database logins never used. The period defaults to the last 30 days and may be at most 400 days.',
          querystring: insightsPeriodQuery,
          response: { 200: roleInsightsView, ...refusals },
        },
      },
      async (request) => {
        const period = periodOf(request.query, context.clock.now());
        return { from: iso(period.from), to: iso(period.to), items: await figures(period) };
      },
    );

    app.get(
      '/v1/insights/recommendations',
      {
        schema: {
          tags: ['insights'],
          summary: 'What to change in the policy, with the evidence (administrators)',
          description:
            'Shorter defaults, roles to approve at once, slow approvals, access never used and seat pools larger than their peak, each with the figures it rests on. The period defaults to the last 30 days.',
          querystring: insightsPeriodQuery,
          response: { 200: recommendations, ...refusals },
        },
      },
      async (request) => {
        const now = context.clock.now();
        const period = periodOf(request.query, now);
        const [roles, pools] = [
          await figures(period),
          await seatPoolUtilisation(context.db, context.policy, period, now),
        ];
        return {
          from: iso(period.from),
          to: iso(period.to),
          items: recommend(context.policy, period, roles, pools),
        };
      },
    );

    app.get(
      '/v1/insights/seats',
      {
        schema: {
          tags: ['insights'],
          summary: 'Seats in use and requests queued over time for one seat pool (administrators)',
          description:
            'Evenly spaced points of the period up to now. The period defaults to the last 30 days; at most 2,000 points.',
          querystring: seatSeriesQuery,
          response: { 200: seatSeriesView, ...refusals, 404: errorBody },
        },
      },
      async (request) => {
        const now = context.clock.now();
        const period = periodOf(request.query, now);
        const pool = poolNamed(context.policy, request.query.pool);
        return seatSeries(context.db, pool, period, request.query.step, now);
      },
    );
  };
