import { conflict, forbidden } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import {
  applyDecision,
  currentStage,
  decidersNow,
  possibleDeciders,
  type ApprovalProgress,
} from '../policy/engine.js';
import type { PolicyUser, Role } from '../policy/types.js';
import { activateOrQueue, announceRequest, applyExtension } from './activation.js';
import { roleOf, type Domain } from './context.js';
import { assertAwaitingDecision, assertRequestMove } from './lifecycle.js';
import type { RequestRecord } from './records.js';
import { insertRequest, updateRequest } from './store.js';
import { toRequestView } from './views.js';
import type { Work } from './work.js';

/** The life of a request, from opening to a decision, a lapse or an escalation. */

export interface OpenRequest {
  readonly requester: PolicyUser;
  readonly resourceId: string;
  readonly role: Role;
  readonly kind: 'access' | 'extension';
  readonly extendsGrantId: string | null;
  readonly durationSeconds: number;
  readonly reason: string;
  readonly ticket: string | null;
}

function progressOf(record: RequestRecord): ApprovalProgress {
  return {
    requesterId: record.requester_id,
    stageIndex: record.stage_index ?? 0,
    escalated: record.stage_escalated,
    decisions: record.decisions,
  };
}

function escalationDeadline(role: Role, stageIndex: number, now: number): Date | null {
  const escalation = role.approval.stages[stageIndex]?.escalation;
  return escalation ? new Date(now + escalation.afterSeconds * 1000) : null;
}

/** Records a new request; the policy then approves it at once or asks the first stage's approvers. */
export async function openRequest(domain: Domain, work: Work, input: OpenRequest): Promise<RequestRecord> {
  const { role } = input;
  const auto = role.approval.stages.length === 0;
  const progress: ApprovalProgress = {
    requesterId: input.requester.id,
    stageIndex: 0,
    escalated: false,
    decisions: [],
  };
  const deciders = auto ? [] : decidersNow(domain.policy, role, progress);
  if (!auto && possibleDeciders(domain.policy, role, progress).length === 0) {
    throw conflict(
      'no_approver_available',
      `Nobody but you can approve ${input.resourceId}/${role.name}, and you may not approve your own request. Ask an administrator to add an approver.`,
    );
  }
  const record: RequestRecord = {
    id: newId('req'),
    requester_id: input.requester.id,
    resource_id: input.resourceId,
    role: role.name,
    kind: input.kind,
    extends_grant_id: input.extendsGrantId,
    duration_seconds: input.durationSeconds,
    reason: input.reason,
    ticket: input.ticket,
    status: 'pending',
    created_at: new Date(work.now),
    updated_at: new Date(work.now),
    expires_at: new Date(work.now + role.pendingTimeoutSeconds * 1000),
    stage_index: auto ? null : 0,
    stage_escalated: false,
    escalates_at: auto ? null : escalationDeadline(role, 0, work.now),
    deciders,
    asked: deciders,
    decisions: [],
    grant_id: null,
    queued_at: null,
    queue_order: null,
  };
  // An access request the policy approves at once is written once, in its approved (or queued) state.
  const approvedAtOnce = auto && input.kind === 'access';
  if (!approvedAtOnce) await insertRequest(work, record);
  work.audit({
    actorId: input.requester.id,
    action: 'request.created',
    subjectType: 'request',
    subjectId: record.id,
    data: {
      kind: record.kind,
      resourceId: record.resource_id,
      role: record.role,
      durationSeconds: record.duration_seconds,
      reason: record.reason,
      ticket: record.ticket,
      ...(record.extends_grant_id ? { grantId: record.extends_grant_id } : {}),
    },
  });
  if (approvedAtOnce) return activateOrQueue(domain, work, record, 'insert');
  if (auto) return applyExtension(domain, work, record);
  work.wake(record.expires_at);
  work.wake(record.escalates_at);
  work.emit(deciders, 'approval.needed', toRequestView(domain.policy, record, null));
  await announceRequest(domain, work, record);
  return record;
}

function concludeApproved(domain: Domain, work: Work, record: RequestRecord): Promise<RequestRecord> {
  return record.kind === 'extension'
    ? applyExtension(domain, work, record)
    : activateOrQueue(domain, work, record);
}

/** One approver's decision on a pending request they may see (the caller checked visibility). */
export async function decide(
  domain: Domain,
  work: Work,
  actor: PolicyUser,
  record: RequestRecord,
  decision: 'approve' | 'deny',
  comment: string,
): Promise<RequestRecord> {
  const verb = decision === 'approve' ? 'approved' : 'denied';
  assertAwaitingDecision(record, verb);
  const role = roleOf(domain.policy, record);
  if (actor.id === record.requester_id && !role.allowSelfApproval) {
    throw forbidden(
      'self_approval_forbidden',
      decision === 'approve'
        ? 'You cannot approve your own request.'
        : 'You cannot deny your own request; cancel it instead.',
    );
  }
  const progress = progressOf(record);
  if (!decidersNow(domain.policy, role, progress).includes(actor.id)) {
    if (record.decisions.some((d) => d.approverId === actor.id)) {
      throw conflict(
        'already_decided',
        `You already approved request ${record.id}; it needs someone else's approval now.`,
      );
    }
    const stage = currentStage(role, progress);
    throw forbidden(
      'not_an_approver',
      `You are not an approver of request ${record.id}${stage && role.approval.mode === 'chain' ? ` at its current stage (${stage.name})` : ''}.`,
    );
  }
  const result = applyDecision(role, progress, {
    approverId: actor.id,
    decision,
    comment,
    at: new Date(work.now).toISOString(),
    stage: progress.stageIndex,
  });
  work.audit({
    actorId: actor.id,
    action: decision === 'approve' ? 'request.approval' : 'request.denied',
    subjectType: 'request',
    subjectId: record.id,
    data: { stage: progress.stageIndex, comment },
  });
  const decisions = result.progress.decisions;
  if (result.status !== 'pending') {
    const decided = await updateRequest(work.sql, record.id, {
      decisions,
      updated_at: new Date(work.now),
      ...(result.status === 'denied' ? { status: 'denied' as const, deciders: [], escalates_at: null } : {}),
    });
    if (result.status === 'approved') return concludeApproved(domain, work, decided);
    await announceRequest(domain, work, decided);
    return decided;
  }
  const deciders = decidersNow(domain.policy, role, result.progress);
  const newlyAsked = deciders.filter((id) => !record.asked.includes(id));
  const updated = await updateRequest(work.sql, record.id, {
    decisions,
    stage_index: result.progress.stageIndex,
    stage_escalated: result.progress.escalated,
    escalates_at: result.stageAdvanced
      ? escalationDeadline(role, result.progress.stageIndex, work.now)
      : record.escalates_at,
    deciders,
    asked: [...record.asked, ...newlyAsked],
    updated_at: new Date(work.now),
  });
  work.wake(updated.escalates_at);
  work.emit(newlyAsked, 'approval.needed', toRequestView(domain.policy, updated, null));
  await announceRequest(domain, work, updated);
  return updated;
}

export async function cancel(
  domain: Domain,
  work: Work,
  actor: PolicyUser,
  record: RequestRecord,
): Promise<RequestRecord> {
  if (actor.id !== record.requester_id)
    throw forbidden('not_requester', 'Only the person who made a request can cancel it.');
  assertRequestMove(record, 'cancelled', 'cancelled');
  const cancelled = await updateRequest(work.sql, record.id, {
    status: 'cancelled',
    deciders: [],
    escalates_at: null,
    updated_at: new Date(work.now),
  });
  work.audit({
    actorId: actor.id,
    action: 'request.cancelled',
    subjectType: 'request',
    subjectId: record.id,
    data: { was: record.status },
  });
  await announceRequest(domain, work, cancelled);
  return cancelled;
}

/** Called by the scheduler for a request nobody decided (or no seat freed) in time. */
export async function lapse(domain: Domain, work: Work, record: RequestRecord): Promise<void> {
  assertRequestMove(record, 'lapsed', 'lapsed');
  const lapsed = await updateRequest(work.sql, record.id, {
    status: 'lapsed',
    deciders: [],
    escalates_at: null,
    updated_at: new Date(work.now),
  });
  work.audit({
    actorId: null,
    action: 'request.lapsed',
    subjectType: 'request',
    subjectId: record.id,
    data: { was: record.status },
  });
  await announceRequest(domain, work, lapsed);
}

/** Called by the scheduler when a chain stage waited past its escalation timeout. */
export async function escalate(domain: Domain, work: Work, record: RequestRecord): Promise<void> {
  const role = roleOf(domain.policy, record);
  const progress = { ...progressOf(record), escalated: true };
  const deciders = decidersNow(domain.policy, role, progress);
  const newlyAsked = deciders.filter((id) => !record.asked.includes(id));
  const escalated = await updateRequest(work.sql, record.id, {
    stage_escalated: true,
    escalates_at: null,
    deciders,
    asked: [...record.asked, ...newlyAsked],
    updated_at: new Date(work.now),
  });
  work.audit({
    actorId: null,
    action: 'request.escalated',
    subjectType: 'request',
    subjectId: record.id,
    data: { stage: progress.stageIndex, asked: newlyAsked },
  });
  work.emit(newlyAsked, 'approval.needed', toRequestView(domain.policy, escalated, null));
  await announceRequest(domain, work, escalated);
}
