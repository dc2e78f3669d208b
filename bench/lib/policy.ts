import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../server/auth/passwords.js';

export const BENCH_PASSWORD = 'bench-password';
export const BENCH_USERS = Array.from(
  { length: 64 },
  (_, index) => `user${String(index + 1).padStart(2, '0')}`,
);

/**
 * A policy for load: 64 engineers (real load comes from many people, and each person's events are
 * ordered on their own row) and an auto-approved role whose grants last from 10 s to a day.
 */
export async function writeBenchPolicy(folder: string): Promise<string> {
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const users = BENCH_USERS.map(
    (name) => `  ${name}: { displayName: ${name}, passwordHash: "${passwordHash}", groups: [engineers] }`,
  ).join('\n');
  const file = join(folder, 'bench-policy.yaml');
  writeFileSync(
    file,
    `version: 1
service:
  loginLimits: { perAddress: { attempts: 1000, window: 1m } }
groups:
  engineers: {}
  admins: {}
users:
${users}
  admin: { displayName: Admin, passwordHash: "${passwordHash}", groups: [admins], admin: true }
resources:
  sandbox:
    name: Sandbox
    kind: kubernetes
    roles:
      operator:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1d }
        reasonRequired: false
        approval: auto
`,
  );
  return file;
}
