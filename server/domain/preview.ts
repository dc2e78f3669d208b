import type { z } from 'zod';
import type { createRequestBody, RequestPreviewView } from '../../api/schemas.js';
import { membersOf, mayRequest, requestInputProblems } from '../policy/engine.js';
import { checkAll } from '../policy/conditions/condition.js';
import { outsideConditions, ruleOutsideConditions } from '../policy/conditions/routing.js';
import { approvalShortfall } from '../policy/feasibility.js';
import type { Policy, PolicyUser, Role } from '../policy/types.js';
import { noApproverAvailable } from './approval-flow.js';
import type { Domain } from './context.js';
import { findOpenRequest } from './store.js';

type Problem = RequestPreviewView['problems'][number];
type Approval = NonNullable<RequestPreviewView['approval']>;

/**
 * What `POST /v1/requests` would do with a body, without doing it: every reason it would be refused (not
 * only the first, so the dialog can show them together), and who would decide in which stage. Reads only.
 */
export async function previewRequest(
  domain: Domain,
  actor: PolicyUser,
  body: z.output<typeof createRequestBody>,
  clientAddress: string | null,
): Promise<RequestPreviewView> {
  const refused = (problem: Problem): RequestPreviewView => ({
    ok: false,
    problems: [problem],
    decision: 'refused',
    approval: null,
    conditions: [],
  });
  const resource = domain.policy.resources.get(body.resourceId);
  if (!resource) {
    return refused({
      field: 'resourceId',
      code: 'unknown_resource',
      message: `There is no resource "${body.resourceId}"; GET /v1/resources lists them.`,
    });
  }
  const role = resource.roles.get(body.role);
  if (!role) {
    return refused({
      field: 'role',
      code: 'unknown_role',
      message: `${resource.name} has no role "${body.role}"; it has ${[...resource.roles.keys()].join(', ')}.`,
    });
  }
  const what = `${resource.id}/${role.name}`;
  if (!mayRequest(actor, role)) {
    return refused({
      field: 'role',
      code: 'not_allowed_to_request',
      message: `Only members of ${role.requesterGroups.join(', ')} may request ${what}.`,
    });
  }

  const problems: Problem[] = requestInputProblems(resource.id, role, {
    durationSeconds: body.durationSeconds,
    reason: body.reason.trim(),
    ticket: body.ticket?.trim() ? body.ticket.trim() : null,
  }).map(({ field, code, message }) => ({ field, code, message }));
  const { checks, unmet } = checkAll(role.conditions, { now: domain.clock.now(), clientAddress });
  if (unmet.length > 0 && role.otherwise === 'refuse') {
    const { code, message } = outsideConditions(what, unmet, 'request');
    problems.push({ field: 'conditions', code, message });
  }
  // Outside the conditions with `otherwise: approval`, people decide, as openRequest does.
  const rule = unmet.length > 0 ? ruleOutsideConditions(domain.policy, role) : role;
  const progress = { requesterId: actor.id, stageIndex: 0, escalated: false, decisions: [] };
  const shortfall = approvalShortfall(domain.policy, rule, progress);
  if (shortfall) {
    const { code, message } = noApproverAvailable(what, rule, shortfall);
    problems.push({ field: 'role', code, message });
  }
  const open = await findOpenRequest(domain.db, {
    requester_id: actor.id,
    resource_id: resource.id,
    role: role.name,
  });
  if (open) {
    problems.push({
      field: 'role',
      code: 'request_already_pending',
      message: `You already have request ${open} open for ${what}; cancel it or wait for its decision.`,
    });
  }

  const auto = rule.approval.stages.length === 0;
  return {
    ok: problems.length === 0,
    problems,
    decision: problems.length > 0 ? 'refused' : auto ? 'auto' : 'approval',
    approval: auto ? null : approvalOf(domain.policy, rule, actor),
    conditions: checks,
  };
}

/** Each stage with the people who would be asked in it (escalation approvers only once it escalates). */
function approvalOf(policy: Policy, role: Role, requester: PolicyUser): Approval {
  return {
    mode: role.approval.mode,
    stages: role.approval.stages.map((stage) => ({
      name: stage.name,
      count: stage.count,
      approvers: [...membersOf(policy, stage.approvers)]
        .filter((id) => role.allowSelfApproval || id !== requester.id)
        .sort()
        .map((id) => ({ id, displayName: policy.users.get(id)?.displayName ?? id })),
    })),
  };
}
