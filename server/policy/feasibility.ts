import { firstShortfall, type StageDemand } from '../../api/approval-feasibility.js';
import { decidersNow, membersOf, type ApprovalProgress } from './engine.js';
import type { Policy, Role } from './types.js';

/**
 * Whether a request can still be approved to the end by the people its policy names, and who is asked
 * when it cannot. Pure functions over the policy and a request's progress, like the engine.
 */

/** The first stage the policy's people cannot complete (its index among all stages), with the numbers. */
export interface StageShortfall {
  readonly stageIndex: number;
  readonly stage: string;
  readonly needed: number;
  readonly eligible: number;
}

/**
 * Checks that the current and every later stage can be completed by distinct eligible people: each
 * stage's approvers and escalation approvers, never whoever already decided this request, never the
 * requester unless the role allows self-approval (a matching: `firstShortfall`). Null when it can finish.
 */
export function approvalShortfall(
  policy: Policy,
  role: Role,
  progress: ApprovalProgress,
): StageShortfall | null {
  const decided = new Set(progress.decisions.map((decision) => decision.approverId));
  const remaining = role.approval.stages.slice(progress.stageIndex).map((stage, offset): StageDemand => {
    const people = membersOf(policy, stage.approvers);
    if (stage.escalation) for (const member of membersOf(policy, stage.escalation.to)) people.add(member);
    const given =
      offset === 0
        ? progress.decisions.filter((d) => d.stage === progress.stageIndex && d.decision === 'approve').length
        : 0;
    return {
      name: stage.name,
      needed: Math.max(0, stage.count - given),
      eligible: [...people]
        .filter((person) => !decided.has(person))
        .filter((person) => role.allowSelfApproval || person !== progress.requesterId)
        .sort(),
    };
  });
  const shortfall = firstShortfall(remaining);
  if (!shortfall) return null;
  const { position, ...numbers } = shortfall;
  return { stageIndex: progress.stageIndex + position, ...numbers };
}

/** Who decides a request now, and whether the administrators were asked because nobody else can. */
export interface Deciders {
  readonly ids: string[];
  /** The stage's escalation approvers are asked too (its own timeout passed, or the request is stuck). */
  readonly escalated: boolean;
  /** Set when the policy's people cannot finish the request: the administrators are asked as well. */
  readonly shortfall: StageShortfall | null;
}

/**
 * The people asked to decide now. A request the policy's people can no longer finish escalates at once:
 * the stage's escalation approvers and every administrator (but the requester, and anyone who already
 * decided it) are asked, instead of it waiting to lapse.
 */
export function decidersOf(policy: Policy, role: Role, progress: ApprovalProgress): Deciders {
  const shortfall = approvalShortfall(policy, role, progress);
  if (!shortfall)
    return { ids: decidersNow(policy, role, progress), escalated: progress.escalated, shortfall };
  const ids = new Set(decidersNow(policy, role, { ...progress, escalated: true }));
  for (const admin of overridingAdmins(policy, progress)) ids.add(admin);
  return { ids: [...ids].sort(), escalated: true, shortfall };
}

/** Administrators who may decide a stuck request: never its requester, never twice. */
export function overridingAdmins(policy: Policy, progress: ApprovalProgress): string[] {
  const decided = new Set(progress.decisions.map((decision) => decision.approverId));
  return [...policy.users.values()]
    .filter((user) => user.isAdmin && user.id !== progress.requesterId && !decided.has(user.id))
    .map((user) => user.id)
    .sort();
}
