import type { RecommendationView, RoleInsightView } from '../../api/insights-schemas.js';
import { formatDuration } from '../../api/duration.js';
import type { PoolUtilisation } from '../domain/seat-pools.js';
import type { Policy } from '../policy/types.js';
import type { Period } from './period.js';

/**
 * The thresholds behind the advice. Advice rests on enough history to mean something: a role with a
 * handful of grants says little about how long people need it.
 */
export const THRESHOLDS = {
  /** Ended grants (or decisions) a role needs before its figures count. */
  minimumSample: 5,
  /** Recommend a shorter default when half the grants end within this share of it. */
  usedShareOfDefault: 0.5,
  /** Decisions by people, all approvals, before a role is a candidate for approval at once. */
  minimumApprovals: 10,
  /** A median wait for a decision this long or longer is slow. */
  slowDecisionSeconds: 3600,
  /** The share of ended grants never used above which access is "asked for and not used". */
  unusedShare: 0.5,
} as const;

type Evidence = RecommendationView['evidence'];

/** Rounds a duration up to a whole minute, hour or day, as a person would write a default. */
function roundedUp(seconds: number): number {
  const unit = seconds <= 3600 ? 60 : seconds <= 86_400 ? 3600 : 86_400;
  return Math.max(unit, Math.ceil(seconds / unit) * unit);
}

function roleAdvice(policy: Policy, insight: RoleInsightView, period: Evidence): RecommendationView[] {
  const role = policy.resources.get(insight.resourceId)?.roles.get(insight.role);
  if (!role) return [];
  const name = `${insight.resourceId}/${insight.role}`;
  const about = { resourceId: insight.resourceId, role: insight.role };
  const advice: RecommendationView[] = [];
  const used = insight.usedSeconds.p50;
  if (
    used !== null &&
    insight.endedGrants >= THRESHOLDS.minimumSample &&
    used <= role.defaultDurationSeconds * THRESHOLDS.usedShareOfDefault
  ) {
    const suggested = roundedUp(used);
    advice.push({
      kind: 'shorten_duration',
      ...about,
      message: `Half the grants of ${name} ended within ${formatDuration(used)}, yet its default is ${formatDuration(role.defaultDurationSeconds)}: set the default to ${formatDuration(suggested)}.`,
      evidence: {
        ...period,
        defaultSeconds: role.defaultDurationSeconds,
        suggestedDefaultSeconds: suggested,
        usedSecondsP50: used,
        requestedSecondsP50: insight.requestedSeconds.p50,
        endedGrants: insight.endedGrants,
        endedEarly: insight.endedEarly,
      },
    });
  }
  const approvedByPeople = insight.approved - insight.auto;
  if (
    role.approval.stages.length > 0 &&
    approvedByPeople >= THRESHOLDS.minimumApprovals &&
    insight.denied === 0
  ) {
    advice.push({
      kind: 'auto_approve_candidate',
      ...about,
      message: `People approved all ${approvedByPeople} requests for ${name} and denied none: consider approving it at once, with conditions (a ticket, a shorter maximum).`,
      evidence: { ...period, approvedByPeople, denied: 0, decisionSecondsP50: insight.decisionSeconds.p50 },
    });
  }
  const decided = approvedByPeople + insight.denied;
  const wait = insight.decisionSeconds.p50;
  if (wait !== null && decided >= THRESHOLDS.minimumSample && wait >= THRESHOLDS.slowDecisionSeconds) {
    advice.push({
      kind: 'slow_approvals',
      ...about,
      message: `Half the requests for ${name} waited ${formatDuration(wait)} or more for a decision: add approvers or an escalation.`,
      evidence: {
        ...period,
        decided,
        decisionSecondsP50: wait,
        decisionSecondsP90: insight.decisionSeconds.p90,
      },
    });
  }
  const unused = Math.max(insight.credentialNeverFetched, insight.loginNeverUsed ?? 0);
  if (
    insight.endedGrants >= THRESHOLDS.minimumSample &&
    unused > insight.endedGrants * THRESHOLDS.unusedShare
  ) {
    advice.push({
      kind: 'never_used',
      ...about,
      message: `${unused} of ${insight.endedGrants} grants of ${name} were never used: ask whether those who request it need it, or remove it from their groups.`,
      evidence: {
        ...period,
        endedGrants: insight.endedGrants,
        credentialNeverFetched: insight.credentialNeverFetched,
        loginNeverUsed: insight.loginNeverUsed,
      },
    });
  }
  return advice;
}

function poolAdvice(pool: PoolUtilisation, period: Evidence): RecommendationView[] {
  // A pool whose line was never used and whose peak stayed below its size pays for seats nobody took.
  // A period in which nobody used it at all says nothing about how many seats people need.
  if (pool.grants === 0 || pool.peakInUse >= pool.seats || pool.queue.requests > 0) return [];
  const drop = pool.seats - Math.max(1, pool.peakInUse);
  if (drop <= 0) return [];
  return [
    {
      kind: 'fewer_seats',
      resourceId: pool.resourceId,
      role: pool.role,
      message: `At most ${pool.peakInUse} of the ${pool.seats} seats of ${pool.resourceId}/${pool.role} were in use at once, and nobody queued: drop ${drop} seat${drop === 1 ? '' : 's'}.`,
      evidence: {
        ...period,
        seats: pool.seats,
        peakInUse: pool.peakInUse,
        averageInUse: pool.averageInUse,
        seatsToDrop: drop,
      },
    },
  ];
}

/** What to change in the policy, each with the figures it rests on. */
export function recommend(
  policy: Policy,
  period: Period,
  roles: readonly RoleInsightView[],
  pools: readonly PoolUtilisation[],
): RecommendationView[] {
  const evidencePeriod = { from: new Date(period.from).toISOString(), to: new Date(period.to).toISOString() };
  return [
    ...roles.flatMap((insight) => roleAdvice(policy, insight, evidencePeriod)),
    ...pools.flatMap((pool) => poolAdvice(pool, evidencePeriod)),
  ];
}
