import { ApiError } from '../../lib/errors.js';
import type { Policy, Role } from '../types.js';
import { checkAll, type ConditionCheck } from './condition.js';

/**
 * The rule a request goes through when it is outside its role's conditions and the role says
 * `otherwise: approval`: the role's own stages when it has them, and for a role granted at once, one
 * approval by any administrator (people decide instead of the policy).
 */
export function ruleOutsideConditions(policy: Policy, role: Role): Role {
  if (role.approval.stages.length > 0) return role;
  const admins = [...policy.users.values()]
    .filter((user) => user.isAdmin)
    .map((user) => user.id)
    .sort();
  return {
    ...role,
    approval: {
      mode: 'any',
      stages: [
        { name: 'Administrators', approvers: { groups: [], users: admins }, count: 1, escalation: null },
      ],
    },
  };
}

/**
 * The refusal of a request outside its role's conditions under `otherwise: refuse`: at request (403) or
 * when someone approves it later, the hour having passed (409). Says every condition that fails.
 */
export function outsideConditions(
  what: string,
  unmet: readonly ConditionCheck[],
  when: 'request' | 'approval',
): ApiError {
  const reasons = unmet.map((check) => check.message).join(' ');
  return new ApiError(
    when === 'request' ? 403 : 409,
    'conditions_not_met',
    when === 'request'
      ? `${what} cannot be requested now. ${reasons}`
      : `${what} cannot be approved now. ${reasons}`,
    { conditions: unmet.map((check) => ({ name: check.name, message: check.message })) },
  );
}

/**
 * Under `otherwise: refuse`, an approval counts only while the request is within its role's conditions:
 * a request made at 18:55 and approved at 19:05 is outside a window that closes at 19:00. The address is
 * the requester's, as recorded when they asked (null for requests older than that record).
 */
export function assertApprovableNow(
  what: string,
  role: Role,
  now: number,
  clientAddress: string | null,
): void {
  if (role.otherwise !== 'refuse') return;
  const { unmet } = checkAll(role.conditions, { now, clientAddress });
  if (unmet.length > 0) throw outsideConditions(what, unmet, 'approval');
}
