import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashPassword, PASSWORD_COST, type ScryptCost } from '../auth/passwords.js';
import { parsePolicy } from '../config/load.js';
import type { Policy } from '../policy/types.js';

export const DEMO_POLICY_FILE = fileURLToPath(new URL('./policy.yaml', import.meta.url));

/** The environment variable that holds an admin URL for the demo's real PostgreSQL resource. */
export const DEMO_POSTGRES_URL_VARIABLE = 'TIMEBOX_DEMO_POSTGRES_URL';

/**
 * The demo organisation, every user signing in with `password` (hashed at `passwordCost`). When the
 * environment names a PostgreSQL admin URL, it also offers `analytics-db`, whose grants are real logins
 * on that server.
 */
export async function demoPolicy(
  password: string,
  env: NodeJS.ProcessEnv,
  passwordCost: ScryptCost = PASSWORD_COST,
): Promise<Policy> {
  const passwordHash = await hashPassword(password, passwordCost);
  const withPostgres = (env[DEMO_POSTGRES_URL_VARIABLE]?.trim() ?? '') !== '';
  return parsePolicy({
    file: DEMO_POLICY_FILE,
    text: readFileSync(DEMO_POLICY_FILE, 'utf8'),
    env,
    prepare: (raw) => {
      const prepared = withPasswords(raw, passwordHash);
      return withPostgres ? withAnalyticsDatabase(prepared) : prepared;
    },
  });
}

/** A real database: `read` is granted at once (for as little as 10 s), `write` needs a team lead. */
const ANALYTICS_DATABASE = {
  name: 'Analytics database',
  kind: 'postgres',
  description: 'A real PostgreSQL login is created for each grant and dropped when it ends.',
  postgres: { admin: { env: DEMO_POSTGRES_URL_VARIABLE }, sslmode: 'prefer', connectionLimit: 3 },
  roles: {
    read: {
      description: 'Read every table.',
      requesters: ['engineers', 'team-leads', 'security'],
      duration: { min: '10s', default: '15m', max: '4h' },
      reasonRequired: false,
      approval: 'auto',
      postgres: { memberOf: ['pg_read_all_data'] },
    },
    write: {
      description: 'Read and change every table; a team lead approves.',
      requesters: ['engineers'],
      duration: { min: '1m', default: '30m', max: '2h' },
      approval: { mode: 'any', approvers: { groups: ['team-leads'] } },
      pendingTimeout: '4h',
      postgres: { memberOf: ['pg_read_all_data', 'pg_write_all_data'] },
    },
  },
};

function withAnalyticsDatabase(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !('resources' in raw)) return raw;
  const { resources } = raw;
  if (typeof resources !== 'object' || resources === null) return raw;
  return { ...raw, resources: { ...resources, 'analytics-db': ANALYTICS_DATABASE } };
}

function withPasswords(raw: unknown, passwordHash: string): unknown {
  if (typeof raw !== 'object' || raw === null || !('users' in raw)) return raw;
  const { users } = raw;
  if (typeof users !== 'object' || users === null) return raw;
  return {
    ...raw,
    users: Object.fromEntries(
      Object.entries(users).map(([name, user]) => [
        name,
        typeof user === 'object' && user !== null ? { ...user, passwordHash } : user,
      ]),
    ),
  };
}
