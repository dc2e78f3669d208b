import type { GrantView, RequestView, ResourceView } from '../../api/schemas.js';
import { ruleOutsideConditions } from '../policy/conditions/routing.js';
import { approvalSummary, mayRequest, membersOf } from '../policy/engine.js';
import type { Policy, PolicyUser, Resource } from '../policy/types.js';
import type { GrantRecord, RequestRecord } from './records.js';

/** Database rows to the contract's shapes. */

export function toRequestView(
  policy: Policy,
  record: RequestRecord,
  queuePosition: number | null,
): RequestView {
  const written = policy.resources.get(record.resource_id)?.roles.get(record.role);
  // A request outside its role's conditions is decided under the rule for that, stages and all.
  const role =
    written && record.outside_conditions.length > 0 ? ruleOutsideConditions(policy, written) : written;
  const stage = record.stage_index === null ? undefined : role?.approval.stages[record.stage_index];
  return {
    id: record.id,
    requesterId: record.requester_id,
    resourceId: record.resource_id,
    role: record.role,
    kind: record.kind,
    extendsGrantId: record.extends_grant_id,
    durationSeconds: record.duration_seconds,
    reason: record.reason,
    ticket: record.ticket,
    status: record.status,
    createdAt: record.created_at.toISOString(),
    updatedAt: record.updated_at.toISOString(),
    expiresAt: record.expires_at.toISOString(),
    stage:
      stage && record.stage_index !== null && role
        ? {
            index: record.stage_index,
            total: role.approval.stages.length,
            name: stage.name,
            escalated: record.stage_escalated,
            approvalsNeeded: stage.count,
            approvalsGiven: record.decisions.filter(
              (d) => d.stage === record.stage_index && d.decision === 'approve',
            ).length,
          }
        : null,
    decisions: record.decisions.map((decision) => ({ ...decision })),
    waitingFor: record.status === 'pending' ? [...record.deciders] : [],
    grantId: record.grant_id,
    queuePosition: record.status === 'queued' ? queuePosition : null,
    lapseCause: record.status === 'lapsed' ? record.lapse_cause : null,
    outsideConditions: [...record.outside_conditions],
  };
}

export function toGrantView(policy: Policy, record: GrantRecord): GrantView {
  const role = policy.resources.get(record.resource_id)?.roles.get(record.role);
  const maxExpiresAt = role
    ? record.starts_at.getTime() + role.maxDurationSeconds * 1000
    : record.expires_at.getTime();
  return {
    id: record.id,
    requestId: record.request_id,
    userId: record.user_id,
    resourceId: record.resource_id,
    role: record.role,
    status: record.status,
    startsAt: record.starts_at.toISOString(),
    expiresAt: record.expires_at.toISOString(),
    endedAt: record.ended_at?.toISOString() ?? null,
    endReason: record.end_reason,
    maxExpiresAt: new Date(maxExpiresAt).toISOString(),
  };
}

export interface SeatUsage {
  readonly inUse: number;
  readonly queued: number;
}

export function toResourceView(
  policy: Policy,
  resource: Resource,
  viewer: PolicyUser,
  seatUsage: (roleName: string) => SeatUsage,
): ResourceView {
  return {
    id: resource.id,
    name: resource.name,
    kind: resource.kind,
    description: resource.description,
    roles: [...resource.roles.values()].map((role) => ({
      name: role.name,
      description: role.description,
      minDurationSeconds: role.minDurationSeconds,
      maxDurationSeconds: role.maxDurationSeconds,
      defaultDurationSeconds: role.defaultDurationSeconds,
      reasonRequired: role.reasonRequired,
      ticketPattern: role.ticketPattern?.source ?? null,
      approval: {
        mode: role.approval.mode,
        summary: approvalSummary(policy, role),
        stages: role.approval.stages.map((stage) => ({
          name: stage.name,
          count: stage.count,
          approvers: [...membersOf(policy, stage.approvers)].sort(),
          escalation: stage.escalation
            ? {
                afterSeconds: stage.escalation.afterSeconds,
                approvers: [...membersOf(policy, stage.escalation.to)].sort(),
              }
            : null,
        })),
        allowSelfApproval: role.allowSelfApproval,
      },
      seats: role.seats === null ? null : { total: role.seats, ...seatUsage(role.name) },
      canRequest: mayRequest(viewer, role),
      pendingTimeoutSeconds: role.pendingTimeoutSeconds,
    })),
  };
}
