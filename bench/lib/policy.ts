import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPassword } from '../../server/index.js';

export const BENCH_PASSWORD = 'bench-password';
export const BENCH_USERS = Array.from(
  { length: 64 },
  (_, index) => `user${String(index + 1).padStart(2, '0')}`,
);

/** The resource server that introspects sandbox tokens while the lifecycle runs (its token file is beside the policy). */
export const BENCH_RESOURCE_SERVER_TOKEN = 'bench-resource-server-7c1f0a9e3b5d4c2a8e6f1b0d9c7a5e3f';

/** Approves `prod/read`; nobody else does. */
export const BENCH_APPROVER = 'lead';

/**
 * A policy for load: 64 engineers (real load comes from many people, and each person's events are
 * ordered on their own row) and an auto-approved role whose grants last from 10 s to a day. For the
 * scenarios that need them (approval latency, hostile input), a role one lead approves, a two-stage
 * chain with a ticket pattern, and a role with two seats.
 */
export async function writeBenchPolicy(folder: string): Promise<string> {
  const passwordHash = await hashPassword(BENCH_PASSWORD);
  const users = BENCH_USERS.map(
    (name) => `  ${name}: { displayName: ${name}, passwordHash: "${passwordHash}", groups: [engineers] }`,
  ).join('\n');
  const file = join(folder, 'bench-policy.yaml');
  writeFileSync(join(folder, 'bench-resource-server.token'), `${BENCH_RESOURCE_SERVER_TOKEN}\n`, {
    mode: 0o600,
  });
  writeFileSync(
    file,
    `version: 1
service:
  loginLimits: { perAddress: { attempts: 1000, window: 1m } }
groups:
  engineers: {}
  leads: {}
  admins: {}
users:
${users}
  ${BENCH_APPROVER}: { displayName: Lead, passwordHash: "${passwordHash}", groups: [leads] }
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
      short-token:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1d }
        reasonRequired: false
        approval: auto
        credentialTtl: 40s
  prod:
    name: Production
    kind: database
    roles:
      read:
        requesters: [engineers]
        duration: { min: 1m, default: 1h, max: 4h }
        reasonRequired: false
        approval: { mode: any, approvers: { groups: [leads] } }
      write:
        requesters: [engineers]
        duration: { min: 1m, default: 30m, max: 2h }
        ticketPattern: 'OPS-[0-9]+'
        approval:
          mode: chain
          stages:
            - { name: Lead, approvers: { groups: [leads] } }
            - { name: Admin, approvers: { groups: [admins] } }
      console:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1h }
        reasonRequired: false
        seats: 2
        approval: auto
resourceServers:
  bench-api: { tokenFile: bench-resource-server.token, resources: [sandbox] }
`,
  );
  return file;
}
