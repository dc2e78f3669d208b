import { badRequest } from '../lib/errors.js';
import { formatDuration } from '../../api/duration.js';
import type { ApprovalStage, Approvers, Policy, PolicyUser, Role } from './types.js';

/**
 * The approval rules as pure functions over a request's progress. Nothing here touches the database or
 * the clock, so the property tests can throw thousands of policies and decision sequences at it.
 */

export interface Decision {
  readonly approverId: string;
  readonly decision: 'approve' | 'deny';
  readonly comment: string;
  readonly at: string;
  /** The stage the decision was made in. */
  readonly stage: number;
  /** An administrator decided a stage nobody the policy names could complete; it completes the stage. */
  readonly override?: boolean;
}

export interface ApprovalProgress {
  readonly requesterId: string;
  readonly stageIndex: number;
  /** Whether the current stage's escalation approvers have been asked too. */
  readonly escalated: boolean;
  readonly decisions: readonly Decision[];
}

export function membersOf(policy: Policy, approvers: Approvers): Set<string> {
  const members = new Set(approvers.users.filter((user) => policy.users.has(user)));
  for (const user of policy.users.values()) {
    if (user.groups.some((group) => approvers.groups.includes(group))) members.add(user.id);
  }
  return members;
}

export function mayRequest(user: PolicyUser, role: Role): boolean {
  return user.groups.some((group) => role.requesterGroups.includes(group));
}

/**
 * Who may decide the request now: the current stage's approvers (and its escalation approvers once it
 * has escalated), never the requester unless the role allows self-approval, and never anyone who has
 * already approved, so a quorum or a chain always means distinct people.
 */
export function decidersNow(policy: Policy, role: Role, progress: ApprovalProgress): string[] {
  const stage = role.approval.stages[progress.stageIndex];
  if (!stage) return [];
  const candidates = membersOf(policy, stage.approvers);
  if (progress.escalated && stage.escalation) {
    for (const member of membersOf(policy, stage.escalation.to)) candidates.add(member);
  }
  for (const decision of progress.decisions) candidates.delete(decision.approverId);
  if (!role.allowSelfApproval) candidates.delete(progress.requesterId);
  return [...candidates].sort();
}

/** Whoever could decide the current stage if it escalated: empty means nobody ever could. */
export function possibleDeciders(policy: Policy, role: Role, progress: ApprovalProgress): string[] {
  return decidersNow(policy, role, { ...progress, escalated: true });
}

export type DecisionResult =
  | { readonly status: 'pending'; readonly progress: ApprovalProgress; readonly stageAdvanced: boolean }
  | { readonly status: 'approved' | 'denied'; readonly progress: ApprovalProgress };

/** Applies one decision by someone in `decidersNow`; the caller checks that first. */
export function applyDecision(role: Role, progress: ApprovalProgress, decision: Decision): DecisionResult {
  const decisions = [...progress.decisions, decision];
  if (decision.decision === 'deny') return { status: 'denied', progress: { ...progress, decisions } };
  const stage = role.approval.stages[progress.stageIndex];
  const approvals = decisions.filter(
    (d) => d.stage === progress.stageIndex && d.decision === 'approve',
  ).length;
  if (!stage || (approvals < stage.count && decision.override !== true)) {
    return { status: 'pending', progress: { ...progress, decisions }, stageAdvanced: false };
  }
  const nextStage = progress.stageIndex + 1;
  if (nextStage >= role.approval.stages.length)
    return { status: 'approved', progress: { ...progress, decisions } };
  return {
    status: 'pending',
    progress: { ...progress, stageIndex: nextStage, escalated: false, decisions },
    stageAdvanced: true,
  };
}

export function currentStage(role: Role, progress: ApprovalProgress): ApprovalStage | undefined {
  return role.approval.stages[progress.stageIndex];
}

export interface RequestInput {
  readonly durationSeconds: number;
  readonly reason: string;
  readonly ticket: string | null;
}

/** One thing wrong with a request's input, named by the body field to change. */
export interface InputProblem {
  readonly field: 'durationSeconds' | 'reason' | 'ticket';
  readonly code: string;
  readonly message: string;
  readonly details?: Record<string, unknown>;
}

/** Everything wrong with a request's input for its role (the preview lists them all), in field order. */
export function requestInputProblems(resourceId: string, role: Role, input: RequestInput): InputProblem[] {
  const problems: InputProblem[] = [];
  const what = `${resourceId}/${role.name}`;
  // Written so that NaN is refused too.
  if (!(
    input.durationSeconds >= role.minDurationSeconds && input.durationSeconds <= role.maxDurationSeconds
  )) {
    problems.push({
      field: 'durationSeconds',
      code: 'duration_out_of_range',
      message: `Choose a duration between ${formatDuration(role.minDurationSeconds)} and ${formatDuration(role.maxDurationSeconds)} for ${what}.`,
      details: { minDurationSeconds: role.minDurationSeconds, maxDurationSeconds: role.maxDurationSeconds },
    });
  }
  if (role.reasonRequired && input.reason.trim() === '') {
    problems.push({
      field: 'reason',
      code: 'reason_required',
      message: `Give a reason: ${what} requires one.`,
    });
  }
  if (role.ticketPattern) {
    const pattern = role.ticketPattern.source;
    if (input.ticket === null || input.ticket.trim() === '') {
      problems.push({
        field: 'ticket',
        code: 'ticket_required',
        message: `Give a ticket: ${what} requires one matching ${pattern}.`,
        details: { pattern },
      });
    } else if (!role.ticketPattern.regex.test(input.ticket)) {
      problems.push({
        field: 'ticket',
        code: 'ticket_invalid',
        message: `The ticket "${input.ticket}" does not match the pattern ${pattern}.`,
        details: { pattern },
      });
    }
  }
  return problems;
}

/** Checks a request against its role; the error says exactly what to change (the first problem). */
export function checkRequestInput(resourceId: string, role: Role, input: RequestInput): void {
  const [first] = requestInputProblems(resourceId, role, input);
  if (first) throw badRequest(first.code, first.message, first.details);
}

/** How many seconds a grant may still be extended by: its role's maximum counts from its start. */
export function extensionHeadroomSeconds(role: Role, startsAtMs: number, expiresAtMs: number): number {
  return Math.max(0, Math.floor((startsAtMs + role.maxDurationSeconds * 1000 - expiresAtMs) / 1000));
}

/** A sentence for the request dialog: what will happen when this role is requested. */
export function approvalSummary(policy: Policy, role: Role): string {
  const { mode, stages } = role.approval;
  const names = (stage: ApprovalStage): string => {
    const people = [...membersOf(policy, stage.approvers)].map(
      (id) => policy.users.get(id)?.displayName ?? id,
    );
    return people.length <= 3
      ? joinOr(people)
      : `${people.slice(0, 3).join(', ')} or ${people.length - 3} more`;
  };
  switch (mode) {
    case 'auto':
      return 'Granted at once.';
    case 'any':
      return stages[0] ? `Needs approval from ${names(stages[0])}.` : 'Granted at once.';
    case 'quorum':
      return stages[0] ? `Needs ${stages[0].count} approvals from ${names(stages[0])}.` : 'Granted at once.';
    case 'chain':
      return `${stages.length} ${stages.length === 1 ? 'stage' : 'stages'}: ${stages
        .map((stage) => `${stage.name} (${names(stage)})`)
        .join(', then ')}.`;
  }
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? 'nobody';
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

/** The moment the next reminder is due: the latest lead time still ahead that is shorter than the grant. */
export function nextReminderAt(
  leadsSeconds: readonly number[],
  startsAtMs: number,
  expiresAtMs: number,
  nowMs: number,
): number | null {
  let next: number | null = null;
  for (const lead of leadsSeconds) {
    const at = expiresAtMs - lead * 1000;
    const longerThanGrant = at <= startsAtMs;
    if (!longerThanGrant && at > nowMs && (next === null || at < next)) next = at;
  }
  return next;
}
