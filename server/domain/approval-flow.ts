import { badRequest, conflict, forbidden } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { applyDecision, currentStage, decidersNow, type ApprovalProgress } from '../policy/engine.js';
import {
  approvalShortfall,
  decidersOf,
  overridingAdmins,
  type Deciders,
  type StageShortfall,
} from '../policy/feasibility.js';
import { checkAll } from '../policy/conditions/condition.js';
import {
  assertApprovableNow,
  outsideConditions,
  ruleOutsideConditions,
} from '../policy/conditions/routing.js';
import type { PolicyUser, Role } from '../policy/types.js';
import { activateOrQueue, announceRequest, applyExtension } from './activation.js';
import { requestRoleOf, roleOf, type Domain } from './context.js';
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
  /** The requester's address as the service saw it, for the role's networks condition. */
  readonly clientAddress: string | null;
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
  const what = `${input.resourceId}/${input.role.name}`;
  const { unmet } = checkAll(input.role.conditions, { now: work.now, clientAddress: input.clientAddress });
  if (unmet.length > 0 && input.role.otherwise === 'refuse') throw outsideConditions(what, unmet, 'request');
  // Outside the conditions with `otherwise: approval`: people decide, even for a role granted at once.
  const role = unmet.length > 0 ? ruleOutsideConditions(domain.policy, input.role) : input.role;
  const auto = role.approval.stages.length === 0;
  const progress: ApprovalProgress = {
    requesterId: input.requester.id,
    stageIndex: 0,
    escalated: false,
    decisions: [],
  };
  const deciders = auto ? [] : decidersNow(domain.policy, role, progress);
  const shortfall = auto ? null : approvalShortfall(domain.policy, role, progress);
  if (shortfall) throw noApproverAvailable(what, role, shortfall);
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
    lapse_cause: null,
    client_address: input.clientAddress,
    outside_conditions: unmet.map((check) => check.message),
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
      ...(record.client_address ? { clientAddress: record.client_address } : {}),
      ...(unmet.length > 0 ? { outsideConditions: record.outside_conditions } : {}),
    },
  });
  work.announce({ type: 'request.created', data: toRequestView(domain.policy, record, null) });
  if (approvedAtOnce) return activateOrQueue(domain, work, record, 'insert');
  if (auto) return applyExtension(domain, work, record);
  work.wake(record.expires_at);
  work.wake(record.escalates_at);
  const recordView = toRequestView(domain.policy, record, null);
  work.emit(deciders, 'approval.needed', recordView);
  if (deciders.length > 0) work.announce({ type: 'approval.needed', data: recordView, approvers: deciders });
  await announceRequest(domain, work, record);
  return record;
}

/** The refusal of a request whose stages nobody could finish (also a problem in the preview). */
export function noApproverAvailable(what: string, role: Role, shortfall: StageShortfall) {
  const { needed, eligible } = shortfall;
  const stage = role.approval.mode === 'chain' ? `Its stage "${shortfall.stage}"` : 'It';
  const rules = role.allowSelfApproval
    ? 'nobody approves twice'
    : 'you may not approve your own request and nobody approves twice';
  return conflict(
    'no_approver_available',
    `Nobody could finish a request for ${what}: ${stage} needs ${needed} ${needed === 1 ? 'approval' : 'approvals'} from distinct people and ${eligible} ${eligible === 1 ? 'is' : 'are'} eligible (${rules}). Ask an administrator to add approvers.`,
    { stage: shortfall.stage, needed, eligible },
  );
}

function concludeApproved(domain: Domain, work: Work, record: RequestRecord): Promise<RequestRecord> {
  return record.kind === 'extension'
    ? applyExtension(domain, work, record)
    : activateOrQueue(domain, work, record);
}

/**
 * One decision on a pending request the actor may see (the caller checked visibility): by someone the
 * policy asks now, or by an administrator on a request nobody the policy names can finish (an override,
 * which completes the stage; never on their own request).
 */
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
  const role = requestRoleOf(domain.policy, record);
  if (decision === 'approve') {
    const what = `${record.resource_id}/${record.role}`;
    assertApprovableNow(what, roleOf(domain.policy, record), work.now, record.client_address);
  }
  const progress = progressOf(record);
  const asked = decidersNow(domain.policy, role, progress).includes(actor.id);
  const stuck = approvalShortfall(domain.policy, role, progress);
  if (actor.id === record.requester_id && (!role.allowSelfApproval || (!asked && stuck && actor.isAdmin))) {
    throw forbidden(
      'self_approval_forbidden',
      !asked && stuck && actor.isAdmin
        ? 'Administrators decide requests nobody else can, but never their own; another administrator can decide it.'
        : decision === 'approve'
          ? 'You cannot approve your own request.'
          : 'You cannot deny your own request; cancel it instead.',
    );
  }
  // An administrator's decision on a stuck stage completes it even when the stage also names them (as
  // its escalateTo, say): counted as one ordinary approval, a sole administrator could not finish it.
  const override = stuck !== null && overridingAdmins(domain.policy, progress).includes(actor.id);
  if (!asked && !override) {
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
    ...(override ? { override: true } : {}),
  });
  work.audit({
    actorId: actor.id,
    action: decision === 'approve' ? 'request.approval' : 'request.denied',
    subjectType: 'request',
    subjectId: record.id,
    data: { stage: progress.stageIndex, comment, ...(override ? { override: true } : {}) },
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
  // The next stage starts (or this one goes on) with whoever can still decide it; if nobody can finish
  // it any more, it escalates to the administrators at once: it can no longer be refused.
  const next = decidersOf(domain.policy, role, result.progress);
  const escalatesAt = next.shortfall
    ? null
    : result.stageAdvanced
      ? escalationDeadline(role, result.progress.stageIndex, work.now)
      : record.escalates_at;
  const escalatedNow = next.shortfall !== null && (result.stageAdvanced || stuck === null);
  return redirect(
    domain,
    work,
    record,
    next,
    { decisions, stage_index: result.progress.stageIndex, escalates_at: escalatesAt },
    escalatedNow,
  );
}

/**
 * Stores who is asked now, tells the newly asked and everyone following the request, and audits an
 * escalation the policy's people cannot finish.
 */
async function redirect(
  domain: Domain,
  work: Work,
  record: RequestRecord,
  next: Deciders,
  patch: Pick<RequestRecord, 'decisions' | 'stage_index' | 'escalates_at'>,
  audited: boolean,
): Promise<RequestRecord> {
  const newlyAsked = next.ids.filter((id) => !record.asked.includes(id));
  const updated = await updateRequest(work.sql, record.id, {
    ...patch,
    stage_escalated: next.escalated,
    deciders: next.ids,
    asked: [...record.asked, ...newlyAsked],
    updated_at: new Date(work.now),
  });
  if (audited && next.shortfall) {
    const { stage, needed, eligible } = next.shortfall;
    work.audit({
      actorId: null,
      action: 'request.escalated',
      subjectType: 'request',
      subjectId: record.id,
      data: {
        stage: next.shortfall.stageIndex,
        asked: newlyAsked,
        because: 'no_approver_available',
        details: { stage, needed, eligible },
      },
    });
  }
  work.wake(updated.escalates_at);
  const updatedView = toRequestView(domain.policy, updated, null);
  work.emit(newlyAsked, 'approval.needed', updatedView);
  if (newlyAsked.length > 0)
    work.announce({ type: 'approval.needed', data: updatedView, approvers: newlyAsked });
  await announceRequest(domain, work, updated);
  return updated;
}

/**
 * Asks again who may decide a waiting request under the policy the service runs now (at start, after the
 * policy changed): people who left a group or the policy are no longer asked, new approvers are, and a
 * request nobody named can finish any more escalates to the administrators at once. Says whether it
 * changed anything.
 */
export async function reconsider(domain: Domain, work: Work, record: RequestRecord): Promise<boolean> {
  // A role the policy dropped: its requests lapse as they always did; nobody can be asked about it.
  if (!domain.policy.resources.get(record.resource_id)?.roles.has(record.role) || record.status !== 'pending')
    return false;
  const role = requestRoleOf(domain.policy, record);
  const next = decidersOf(domain.policy, role, progressOf(record));
  const same =
    next.escalated === record.stage_escalated &&
    next.ids.length === record.deciders.length &&
    next.ids.every((id) => record.deciders.includes(id));
  if (same) return false;
  const patch = {
    decisions: record.decisions,
    stage_index: record.stage_index,
    escalates_at: next.shortfall ? null : record.escalates_at,
  };
  await redirect(domain, work, record, next, patch, next.shortfall !== null);
  return true;
}

/**
 * Withdraws a pending or queued request: its requester may, and an administrator may withdraw anyone's,
 * saying why (the reason is audited and told to the requester through the request's events).
 */
export async function cancel(
  domain: Domain,
  work: Work,
  actor: PolicyUser,
  record: RequestRecord,
  reason: string,
): Promise<RequestRecord> {
  const byAdmin = actor.id !== record.requester_id;
  if (byAdmin && !actor.isAdmin) {
    throw forbidden(
      'not_requester',
      'Only the person who made a request, or an administrator, can cancel it.',
    );
  }
  if (byAdmin && reason === '') {
    throw badRequest(
      'reason_required',
      `Say why you cancel ${record.requester_id}'s request ${record.id}: send {"reason": "…"}; it is audited.`,
    );
  }
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
    data: {
      was: record.status,
      ...(reason === '' ? {} : { reason }),
      ...(byAdmin ? { override: true } : {}),
    },
  });
  await announceRequest(domain, work, cancelled);
  return cancelled;
}

/** Called by the scheduler for a request nobody decided (or no seat freed) in time. */
export async function lapse(domain: Domain, work: Work, record: RequestRecord): Promise<void> {
  assertRequestMove(record, 'lapsed', 'lapsed');
  const lapsed = await updateRequest(work.sql, record.id, {
    status: 'lapsed',
    lapse_cause: 'timeout',
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
  const role = requestRoleOf(domain.policy, record);
  const progress = { ...progressOf(record), escalated: true };
  const next = decidersOf(domain.policy, role, progress);
  const newlyAsked = next.ids.filter((id) => !record.asked.includes(id));
  const escalated = await updateRequest(work.sql, record.id, {
    stage_escalated: true,
    escalates_at: null,
    deciders: next.ids,
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
  const escalatedView = toRequestView(domain.policy, escalated, null);
  work.emit(newlyAsked, 'approval.needed', escalatedView);
  if (newlyAsked.length > 0)
    work.announce({ type: 'approval.needed', data: escalatedView, approvers: newlyAsked });
  await announceRequest(domain, work, escalated);
}
