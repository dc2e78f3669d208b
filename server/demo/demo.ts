import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hashPassword } from '../auth/passwords.js';
import { parsePolicy } from '../config/load.js';
import type { Policy } from '../policy/types.js';

export const DEMO_POLICY_FILE = fileURLToPath(new URL('./policy.yaml', import.meta.url));

/** The demo organisation, every user signing in with `password`. */
export async function demoPolicy(password: string, env: NodeJS.ProcessEnv): Promise<Policy> {
  const passwordHash = await hashPassword(password);
  return parsePolicy({
    file: DEMO_POLICY_FILE,
    text: readFileSync(DEMO_POLICY_FILE, 'utf8'),
    env,
    prepare: (raw) => withPasswords(raw, passwordHash),
  });
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
