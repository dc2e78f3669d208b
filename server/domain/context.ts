import type { Clock } from '../../api/clock.js';
import type { AccessLedger } from '../access/access-tasks.js';
import type { Database } from '../db/database.js';
import { notFound } from '../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import { ruleOutsideConditions } from '../policy/conditions/routing.js';
import type { Policy, Role } from '../policy/types.js';
import type { RequestRecord } from './records.js';
import type { UnitOfWork } from './work.js';

/** What the domain modules share. */
export interface Domain {
  readonly policy: Policy;
  readonly db: Database;
  readonly uow: UnitOfWork;
  readonly metrics: Metrics;
  /** Access outside the service (database logins) that follows each grant. */
  readonly access: AccessLedger;
  /** For reads that need the time outside a unit of work (a preview); a change uses its work's `now`. */
  readonly clock: Clock;
}

/** The role a stored request or grant refers to. The policy may have dropped it since: then it is gone. */
export function roleOf(
  policy: Policy,
  record: { readonly resource_id: string; readonly role: string },
): Role {
  const role = policy.resources.get(record.resource_id)?.roles.get(record.role);
  if (!role) throw notFound('resource', `${record.resource_id}/${record.role}`);
  return role;
}

/**
 * The role a request is decided under: its role, or, when the request was outside the role's conditions,
 * the rule for that (people decide, never the policy at once).
 */
export function requestRoleOf(
  policy: Policy,
  record: Pick<RequestRecord, 'resource_id' | 'role' | 'outside_conditions'>,
): Role {
  const role = roleOf(policy, record);
  return record.outside_conditions.length > 0 ? ruleOutsideConditions(policy, role) : role;
}
