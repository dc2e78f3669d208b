import { z } from 'zod';

/** Wire shapes of the contract's "Insights and reports" (../shared/grant-api.md). */

const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');

export const insightsPeriodQuery = z.strictObject({
  from: isoTime.optional().describe('start of the period (default: 30 days before `to`)'),
  to: isoTime.optional().describe('end of the period (default: now); at most 400 days after `from`'),
});

const seconds = z.number().nullable().describe('seconds; null when nothing was measured');

export const roleInsight = z
  .object({
    resourceId: z.string(),
    role: z.string(),
    requests: z.int().describe('access requests made in the period'),
    approved: z.int().describe('of them approved, by people or by the policy at once'),
    denied: z.int(),
    auto: z.int().describe('approved by the policy at once, with no person deciding'),
    lapsed: z.int(),
    decisionSeconds: z
      .object({ p50: seconds, p90: seconds })
      .describe('from request to the last person’s decision, for requests people approved or denied'),
    requestedSeconds: z.object({ p50: seconds }).describe('the durations asked for'),
    usedSeconds: z.object({ p50: seconds }).describe('how long the grants that have ended lasted'),
    endedGrants: z.int().describe('grants of these requests that have ended'),
    endedEarly: z.int().describe('ended grants their owner relinquished before expiry'),
    credentialNeverFetched: z.int().describe('ended grants whose credential was never fetched'),
    loginNeverUsed: z
      .int()
      .nullable()
      .describe(
        'ended grants whose database login was never seen with a session; null for a resource without logins',
      ),
  })
  .meta({ id: 'RoleInsight' });

export const roleInsights = z.object({ from: isoTime, to: isoTime, items: z.array(roleInsight) });

export const recommendationKind = z.enum([
  'shorten_duration',
  'auto_approve_candidate',
  'slow_approvals',
  'never_used',
  'fewer_seats',
]);

export const recommendation = z
  .object({
    kind: recommendationKind,
    resourceId: z.string(),
    role: z.string(),
    message: z.string().describe('what to change and why, for a person'),
    evidence: z
      .record(z.string(), z.union([z.number(), z.string(), z.null()]))
      .describe('the figures the advice rests on, and the period they cover (from, to)'),
  })
  .meta({ id: 'Recommendation' });

export const recommendations = z.object({ from: isoTime, to: isoTime, items: z.array(recommendation) });

export const seatSeriesQuery = insightsPeriodQuery.extend({
  pool: z.string().min(1).max(200).describe('the seat pool, as resourceId/role'),
  step: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .optional()
    .describe('seconds between two points (default: the period in 200 steps, at least 60 s)'),
});

export const seatSeries = z
  .object({
    resourceId: z.string(),
    role: z.string(),
    total: z.int().describe('seats in the pool'),
    at: z.array(isoTime).describe('where each step begins'),
    inUse: z.array(z.int()).describe('the most seats held at once in each step'),
    queued: z.array(z.int()).describe('the most requests waiting in line at once in each step'),
  })
  .meta({ id: 'SeatSeries' });

export const accessReviewQuery = insightsPeriodQuery.extend({
  format: z.enum(['csv', 'html']).default('csv').describe('csv to download, html to read and print'),
});

export type RoleInsightView = z.output<typeof roleInsight>;
export type RoleInsightsView = z.output<typeof roleInsights>;
export type RecommendationView = z.output<typeof recommendation>;
export type RecommendationsView = z.output<typeof recommendations>;
export type SeatSeriesView = z.output<typeof seatSeries>;
