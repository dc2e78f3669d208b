import type { AccessLedger } from '../access/access-tasks.js';
import type { Database } from '../db/database.js';
import { notFound } from '../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Policy, Role } from '../policy/types.js';
import type { UnitOfWork } from './work.js';

/** What the domain modules share. */
export interface Domain {
  readonly policy: Policy;
  readonly db: Database;
  readonly uow: UnitOfWork;
  readonly metrics: Metrics;
  /** Access outside the service (database logins) that follows each grant. */
  readonly access: AccessLedger;
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
