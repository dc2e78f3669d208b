import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../server/auth/passwords.js';
import { loadPolicyFile, parsePolicy, PolicyError } from '../../server/config/load.js';
import { demoPolicy } from '../../server/demo/demo.js';
import { ApiError } from '../../server/lib/errors.js';
import {
  approvalSummary,
  checkRequestInput,
  membersOf,
  possibleDeciders,
} from '../../server/policy/engine.js';
import type { Approvers, Policy, Resource, Role } from '../../server/policy/types.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A well-formed scrypt hash (the loader checks the format; these tests never sign in). */
const hashFor = (user: string): string =>
  `scrypt:32768:8:1:${Buffer.from(`salt-${user}`).toString('base64')}:${Buffer.from(`key-of-${user}`).toString('base64')}`;

/**
 * A small valid organisation. Every bad policy below is this text with one or a few edits, so the line a
 * problem must be reported on is simply the line the edit put the bad field on.
 */
const BASE = `# A small organisation for the policy loader tests.
version: 1
service:
  tokenTtl: 8h
  reminders: [10m, 1m]
groups:
  eng:
    description: Engineers
  leads: {}
  sec: {}
users:
  alice:
    displayName: Alice
    passwordHash: ${hashFor('alice')}
    groups: [eng]
  bob:
    displayName: Bob
    passwordHash: ${hashFor('bob')}
    groups:
      - leads
  carol:
    displayName: Carol
    passwordHash: ${hashFor('carol')}
    groups: [sec]
resources:
  db:
    name: Orders database
    kind: database
    roles:
      read:
        requesters:
          - eng
        duration:
          min: 1m
          default: 1h
          max: 4h
        approval:
          mode: any
          approvers:
            groups: [leads]
      owner:
        requesters: [eng]
        duration: { min: 5m, default: 30m, max: 1h }
        ticketPattern: 'CHG-[0-9]+'
        seats: 2
        approval:
          mode: quorum
          count: 2
          approvers:
            groups: [leads, sec]
  cloud:
    name: Cloud account
    kind: cloud-role
    roles:
      admin:
        requesters: [eng]
        duration: { min: 5m, default: 30m, max: 2h }
        approval:
          mode: chain
          stages:
            - name: Lead
              approvers:
                users: [bob]
              escalateAfter: 15m
              escalateTo:
                groups: [sec]
            - name: Security
              approvers:
                groups: [sec]
`;

type Edit = readonly [from: string, to: string];

/** Applies each edit to the one place its `from` text occurs (two places would make the test ambiguous). */
function edited(text: string, edits: readonly Edit[]): string {
  return edits.reduce((result, [from, to]) => {
    const occurrences = result.split(from).length - 1;
    if (occurrences !== 1)
      throw new Error(`test setup: "${from}" occurs ${occurrences} times, expected once`);
    return result.replace(from, () => to);
  }, text);
}

/** The 1-based number of the one line containing `snippet`. */
function lineContaining(text: string, snippet: string): number {
  const lines = text.split('\n');
  const matches = lines.flatMap((line, index) => (line.includes(snippet) ? [index + 1] : []));
  if (matches.length !== 1 || matches[0] === undefined)
    throw new Error(`test setup: "${snippet}" is on ${matches.length} lines, expected one`);
  return matches[0];
}

let workDir = '';
let policyFile = '';

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'timebox-policy-file-'));
  policyFile = join(workDir, 'timebox.yaml');
  writeFileSync(policyFile, BASE);
  writeFileSync(join(workDir, 'alice-totp.txt'), 'jbsw y3dp ehpk 3pxp\n');
  writeFileSync(join(workDir, 'not-base32.txt'), '0189018901890189\n');
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function parse(text: string, env: NodeJS.ProcessEnv = {}): Policy {
  return parsePolicy({ file: policyFile, text, env });
}

/** The PolicyError the text is refused with; fails the test when it loads. */
function refusal(text: string, env: NodeJS.ProcessEnv = {}): PolicyError {
  try {
    parse(text, env);
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected the policy to be refused, but it loaded');
}

function roleOf(policy: Policy, resourceId: string, roleName: string): Role {
  const role = policy.resources.get(resourceId)?.roles.get(roleName);
  if (!role) throw new Error(`no role ${resourceId}/${roleName}`);
  return role;
}

function userOf(policy: Policy, id: string): NonNullable<ReturnType<Policy['users']['get']>> {
  const user = policy.users.get(id);
  if (!user) throw new Error(`no user ${id}`);
  return user;
}

/** How many stages each approval mode has: fewest and most. */
const STAGES_BY_MODE: Record<Role['approval']['mode'], readonly [number, number]> = {
  auto: [0, 0],
  any: [1, 1],
  quorum: [1, 1],
  chain: [1, 10],
};

describe('the demo policy', () => {
  let demo: Policy;
  beforeAll(async () => {
    demo = await demoPolicy('demo', {});
  });

  const allRoles = (): { resource: Resource; role: Role }[] =>
    [...demo.resources.values()].flatMap((resource) =>
      [...resource.roles.values()].map((role) => ({ resource, role })),
    );

  it('parses into the organisation the file describes', async () => {
    expect([...demo.users.keys()].sort()).toEqual(['admin', 'alice', 'bob', 'carol', 'dave']);
    expect([...demo.groups.keys()].sort()).toEqual(['admins', 'engineers', 'security', 'team-leads']);
    expect([...demo.resources.keys()].sort()).toEqual(['cloud-admin', 'design-suite', 'prod-db', 'sandbox']);
    expect(demo.service.tokenTtlSeconds).toBe(8 * 3600);
    expect(demo.service.reminderLeadsSeconds).toEqual([600, 60]);
    expect(userOf(demo, 'admin').isAdmin).toBe(true);
    expect(userOf(demo, 'alice').isAdmin).toBe(false);
    expect(await verifyPassword('demo', userOf(demo, 'alice').passwordHash ?? '')).toBe(true);

    const read = roleOf(demo, 'prod-db', 'read');
    expect([read.minDurationSeconds, read.defaultDurationSeconds, read.maxDurationSeconds]).toEqual([
      60,
      3600,
      4 * 3600,
    ]);
    expect(read.pendingTimeoutSeconds).toBe(4 * 3600);
    expect(roleOf(demo, 'design-suite', 'seat').seats).toBe(2);
    expect(roleOf(demo, 'sandbox', 'operator').reasonRequired).toBe(false);
    const administrator = roleOf(demo, 'cloud-admin', 'administrator');
    expect(administrator.approval.mode).toBe('chain');
    expect(
      administrator.approval.stages.map((stage) => [stage.name, stage.escalation?.afterSeconds]),
    ).toEqual([
      ['Team lead', 900],
      ['Security', 900],
    ]);
    expect(approvalSummary(demo, administrator)).toBe(
      '2 stages: Team lead (Bob Martin), then Security (Carol Diaz).',
    );
    expect(approvalSummary(demo, roleOf(demo, 'prod-db', 'owner'))).toBe(
      'Needs 2 approvals from Bob Martin or Carol Diaz.',
    );
  });

  it('gives every role sane durations, limits and approval rules', () => {
    const known = (approvers: Approvers): boolean =>
      approvers.groups.every((group) => demo.groups.has(group)) &&
      approvers.users.every((user) => demo.users.has(user));
    const roles = allRoles();
    expect(roles).toHaveLength(6);
    for (const { resource, role } of roles) {
      const where = `${resource.id}/${role.name}`;
      expect(role.minDurationSeconds, where).toBeGreaterThanOrEqual(1);
      expect(role.minDurationSeconds, where).toBeLessThanOrEqual(role.defaultDurationSeconds);
      expect(role.defaultDurationSeconds, where).toBeLessThanOrEqual(role.maxDurationSeconds);
      expect(role.pendingTimeoutSeconds, where).toBeGreaterThanOrEqual(1);
      expect(role.seats === null || (Number.isInteger(role.seats) && role.seats >= 1), where).toBe(true);
      expect(role.requesterGroups.length, where).toBeGreaterThan(0);
      expect(
        role.requesterGroups.every((group) => demo.groups.has(group)),
        where,
      ).toBe(true);
      const { mode, stages } = role.approval;
      const [fewest, most] = STAGES_BY_MODE[mode];
      expect(stages.length, where).toBeGreaterThanOrEqual(fewest);
      expect(stages.length, where).toBeLessThanOrEqual(most);
      for (const stage of stages) {
        expect(known(stage.approvers), where).toBe(true);
        expect(stage.count, where).toBeGreaterThanOrEqual(mode === 'quorum' ? 2 : 1);
        if (mode === 'any') expect(stage.count, where).toBe(1);
        expect(stage.count, where).toBeLessThanOrEqual(membersOf(demo, stage.approvers).size);
        if (stage.escalation) {
          expect(stage.escalation.afterSeconds, where).toBeGreaterThanOrEqual(1);
          expect(known(stage.escalation.to), where).toBe(true);
          expect(membersOf(demo, stage.escalation.to).size, where).toBeGreaterThan(0);
        }
      }
    }
  });

  it('lets someone request every role, and someone else approve each of its stages', () => {
    for (const { resource, role } of allRoles()) {
      const requesters = [...demo.users.values()].filter((user) =>
        user.groups.some((group) => role.requesterGroups.includes(group)),
      );
      expect(requesters.length, `${resource.id}/${role.name}`).toBeGreaterThan(0);
      for (const requester of requesters) {
        role.approval.stages.forEach((stage, stageIndex) => {
          const deciders = possibleDeciders(demo, role, {
            requesterId: requester.id,
            stageIndex,
            escalated: false,
            decisions: [],
          });
          expect(
            deciders,
            `${resource.id}/${role.name} stage ${stageIndex} for ${requester.id}`,
          ).not.toContain(requester.id);
          expect(deciders.length).toBeGreaterThanOrEqual(stage.count);
        });
      }
    }
  });

  it('compiles ticket patterns to match a whole ticket', () => {
    const write = roleOf(demo, 'prod-db', 'write');
    const input = (ticket: string): Parameters<typeof checkRequestInput>[2] => ({
      durationSeconds: write.defaultDurationSeconds,
      reason: 'fix an order',
      ticket,
    });
    expect(() => {
      checkRequestInput('prod-db', write, input('OPS-42'));
    }).not.toThrow();
    for (const ticket of ['see OPS-42', 'OPS-42 please', 'OPS-']) {
      expect(() => {
        checkRequestInput('prod-db', write, input(ticket));
      }, ticket).toThrow(ApiError);
    }
  });
});

describe('a valid policy file', () => {
  it('loads from disk with every field as written', () => {
    const policy = loadPolicyFile(policyFile, {});
    expect(policy.service.tokenTtlSeconds).toBe(8 * 3600);
    expect(policy.service.reminderLeadsSeconds).toEqual([600, 60]);
    expect(userOf(policy, 'bob').groups).toEqual(['leads']);
    const read = roleOf(policy, 'db', 'read');
    expect([read.minDurationSeconds, read.defaultDurationSeconds, read.maxDurationSeconds]).toEqual([
      60,
      3600,
      4 * 3600,
    ]);
    expect(read.requesterGroups).toEqual(['eng']);
    expect(roleOf(policy, 'db', 'owner')).toMatchObject({ seats: 2, approval: { mode: 'quorum' } });
    expect(roleOf(policy, 'cloud', 'admin').approval.stages[0]).toEqual({
      name: 'Lead',
      approvers: { groups: [], users: ['bob'] },
      count: 1,
      escalation: { afterSeconds: 900, to: { groups: ['sec'], users: [] } },
    });
  });

  it('reads a TOTP secret from an environment variable or a file next to the policy', () => {
    const fromEnv = parse(
      edited(BASE, [
        ['    displayName: Alice\n', '    displayName: Alice\n    totpSecret: { env: ALICE_TOTP }\n'],
      ]),
      { ALICE_TOTP: 'JBSWY3DPEHPK3PXP' },
    );
    expect(userOf(fromEnv, 'alice').totpSecret).toBe('JBSWY3DPEHPK3PXP');
    const fromFile = parse(
      edited(BASE, [
        ['    displayName: Alice\n', '    displayName: Alice\n    totpSecret: { file: alice-totp.txt }\n'],
      ]),
    );
    expect(userOf(fromFile, 'alice').totpSecret).toBe('JBSWY3DPEHPK3PXP');
    expect(userOf(fromFile, 'bob').totpSecret).toBeNull();
  });

  it("reads resource servers with their tokens, and each role's credentialTtl (5 min by default)", () => {
    const policy = parse(
      edited(BASE, [
        RESOURCE_SERVERS('  reports: { tokenEnv: RS_TOKEN, resources: [db, cloud] }\n'),
        ['        seats: 2\n', '        seats: 2\n        credentialTtl: 90s\n'],
      ]),
      { RS_TOKEN: ` ${RS_TOKEN}\n` },
    );
    expect([...policy.resourceServers.values()]).toEqual([
      { id: 'reports', resources: new Set(['db', 'cloud']) },
    ]);
    // Kept by the token's hash, never the token.
    expect([...policy.resourceServers.keys()]).toEqual([createHash('sha256').update(RS_TOKEN).digest('hex')]);
    expect(roleOf(policy, 'db', 'owner').credentialTtlSeconds).toBe(90);
    expect(roleOf(policy, 'db', 'read').credentialTtlSeconds).toBe(300);
  });

  it('takes an admin with a second factor when admins must have one; sessions idle after 1h by default', () => {
    const policy = parse(
      edited(BASE, [
        ['  reminders: [10m, 1m]\n', '  reminders: [10m, 1m]\n  requireTotpForAdmins: true\n'],
        [
          '    displayName: Alice\n',
          '    displayName: Alice\n    admin: true\n    totpSecret: { env: ALICE_TOTP }\n',
        ],
      ]),
      { ALICE_TOTP: 'JBSWY3DPEHPK3PXP' },
    );
    expect(policy.service).toMatchObject({ requireTotpForAdmins: true, idleTimeoutSeconds: 3600 });
    expect(userOf(policy, 'alice')).toMatchObject({ isAdmin: true, totpSecret: 'JBSWY3DPEHPK3PXP' });
  });
});

interface BadPolicy {
  readonly name: string;
  readonly edits: readonly Edit[];
  readonly env?: NodeJS.ProcessEnv;
  /** The dotted path of the bad field. */
  readonly path: string;
  /** Text on the one line (of the edited file) the problem must be reported on. */
  readonly at: string;
  /** What the message must say is expected. */
  readonly expected: RegExp;
}

const ALICE_TOTP_FROM = (reference: string): Edit => [
  '    displayName: Alice\n',
  `    displayName: Alice\n    totpSecret: ${reference}\n`,
];

/** Appends a resourceServers section. */
const RESOURCE_SERVERS = (yaml: string): Edit => [
  '              approvers:\n                groups: [sec]\n',
  `              approvers:\n                groups: [sec]\nresourceServers:\n${yaml}`,
];
const RS_TOKEN = 'rs-token-0123456789abcdefghijklmnopqrstuv';

const BAD_POLICIES: readonly BadPolicy[] = [
  {
    name: 'a credentialTtl under 30 seconds',
    edits: [['        seats: 2\n', '        seats: 2\n        credentialTtl: 10s\n']],
    path: 'resources.db.roles.owner.credentialTtl',
    at: 'credentialTtl: 10s',
    expected: /expected at least 30 seconds/,
  },
  {
    name: 'a resource server of a resource that does not exist',
    edits: [RESOURCE_SERVERS('  reports: { tokenEnv: RS_TOKEN, resources: [db, reports] }\n')],
    env: { RS_TOKEN },
    path: 'resourceServers.reports.resources.1',
    at: 'reports: { tokenEnv',
    expected: /unknown resource "reports"; declare it under resources/,
  },
  {
    name: 'a resource server without a token',
    edits: [RESOURCE_SERVERS('  reports: { resources: [db] }\n')],
    path: 'resourceServers.reports.tokenEnv',
    at: 'reports: { resources',
    expected: /expected tokenEnv or tokenFile/,
  },
  {
    name: 'a resource server token that is too short',
    edits: [RESOURCE_SERVERS('  reports: { tokenEnv: RS_TOKEN, resources: [db] }\n')],
    env: { RS_TOKEN: 'short' },
    path: 'resourceServers.reports.tokenEnv',
    at: 'reports: { tokenEnv',
    expected: /expected a token of at least 32 characters/,
  },
  {
    name: 'two resource servers with one token',
    edits: [
      RESOURCE_SERVERS(
        '  reports: { tokenEnv: RS_TOKEN, resources: [db] }\n  billing: { tokenEnv: RS_TOKEN, resources: [cloud] }\n',
      ),
    ],
    env: { RS_TOKEN },
    path: 'resourceServers.billing.tokenEnv',
    at: 'billing: { tokenEnv',
    expected: /the same token as resource server "reports"; give each its own/,
  },
  {
    name: 'an admin without a second factor when admins must have one',
    edits: [
      ['  reminders: [10m, 1m]\n', '  reminders: [10m, 1m]\n  requireTotpForAdmins: true\n'],
      ['    displayName: Carol\n', '    displayName: Carol\n    admin: true\n'],
    ],
    path: 'users.carol.totpSecret',
    at: 'carol:',
    expected: /service.requireTotpForAdmins is on, so every admin needs a second factor/,
  },
  {
    name: 'an idle timeout under 5 minutes',
    edits: [['  tokenTtl: 8h\n', '  tokenTtl: 8h\n  idleTimeout: 4m\n']],
    path: 'service.idleTimeout',
    at: 'idleTimeout: 4m',
    expected: /expected at least 5 minutes/,
  },
  {
    name: 'invalid YAML (a nested mapping on one line)',
    edits: [['tokenTtl: 8h', 'tokenTtl: 8h: 9h']],
    path: '',
    at: 'tokenTtl: 8h: 9h',
    expected: /not valid YAML/,
  },
  {
    name: 'invalid YAML (a key given twice)',
    edits: [['  tokenTtl: 8h\n', '  tokenTtl: 8h\n  tokenTtl: 9h\n']],
    path: '',
    at: 'tokenTtl: 9h',
    expected: /not valid YAML.*unique/,
  },
  {
    name: 'an unknown top-level field',
    edits: [['groups:\n  eng:', 'owner: platform-team\ngroups:\n  eng:']],
    path: 'owner',
    at: 'owner: platform-team',
    expected: /unknown field "owner"/,
  },
  {
    name: 'an unknown field in a role',
    edits: [['seats: 2', 'seat: 2']],
    path: 'resources.db.roles.owner.seat',
    at: 'seat: 2',
    expected: /unknown field "seat"/,
  },
  {
    name: 'a missing version',
    edits: [['version: 1\n', '']],
    path: 'version',
    at: 'service:',
    expected: /expected version: 1/,
  },
  {
    name: 'version 2',
    edits: [['version: 1', 'version: 2']],
    path: 'version',
    at: 'version: 2',
    expected: /expected version: 1/,
  },
  {
    name: 'a duration in words',
    edits: [['min: 1m', 'min: ten minutes']],
    path: 'resources.db.roles.read.duration.min',
    at: 'min: ten minutes',
    expected: /expected a duration such as "90s", "15m", "1h30m", "7d" or a whole number of seconds/,
  },
  {
    name: 'a minimum longer than the maximum',
    edits: [['max: 4h', 'max: 30s']],
    path: 'resources.db.roles.read.duration.max',
    at: 'max: 30s',
    expected: /expected max to be at least min/,
  },
  {
    name: 'a default outside min..max',
    edits: [['default: 1h', 'default: 5h']],
    path: 'resources.db.roles.read.duration.default',
    at: 'default: 5h',
    expected: /expected a default between min and max/,
  },
  {
    name: "an unknown group in a user's groups",
    edits: [['groups: [eng]', 'groups: [eng, ops]']],
    path: 'users.alice.groups.1',
    at: 'groups: [eng, ops]',
    expected: /unknown group "ops"; declare it under groups/,
  },
  {
    name: "an unknown group in a role's requesters",
    edits: [['          - eng\n', '          - engineers\n']],
    path: 'resources.db.roles.read.requesters.0',
    at: '- engineers',
    expected: /unknown group "engineers"; declare it under groups/,
  },
  {
    name: 'an unknown group in approvers',
    edits: [['groups: [leads]', 'groups: [lead]']],
    path: 'resources.db.roles.read.approval.approvers.groups.0',
    at: 'groups: [lead]',
    expected: /unknown group "lead"; declare it under groups/,
  },
  {
    name: 'an unknown user in approvers.users',
    edits: [['users: [bob]', 'users: [robert]']],
    path: 'resources.cloud.roles.admin.approval.stages.0.approvers.users.0',
    at: 'users: [robert]',
    expected: /unknown user "robert"; declare it under users/,
  },
  {
    name: 'a quorum larger than the people who can approve',
    edits: [['count: 2', 'count: 3']],
    path: 'resources.db.roles.owner.approval.count',
    at: 'count: 3',
    expected: /expected at most 2: only 2 people can approve/,
  },
  {
    name: 'a chain stage needing more approvals than it has people',
    edits: [['            - name: Security\n', '            - name: Security\n              count: 4\n']],
    path: 'resources.cloud.roles.admin.approval.stages.1.count',
    at: 'count: 4',
    expected: /expected at most 1: only 1 person can approve this stage/,
  },
  {
    name: 'a chain stage with escalateAfter but no escalateTo',
    edits: [['              escalateTo:\n                groups: [sec]\n', '']],
    path: 'resources.cloud.roles.admin.approval.stages.0.escalateTo',
    at: '- name: Lead',
    expected: /expected escalateAfter and escalateTo together/,
  },
  {
    name: 'a ticketPattern that is not a regular expression',
    edits: [["'CHG-[0-9]+'", "'CHG-[0-9+'"]],
    path: 'resources.db.roles.owner.ticketPattern',
    at: 'ticketPattern:',
    expected: /expected a regular expression/,
  },
  {
    name: 'a resource id with capitals',
    edits: [['  db:\n', '  Orders-DB:\n']],
    path: 'resources.Orders-DB',
    at: 'Orders-DB:',
    expected: /expected a lowercase slug/,
  },
  {
    name: 'seats: 0',
    edits: [['seats: 2', 'seats: 0']],
    path: 'resources.db.roles.owner.seats',
    at: 'seats: 0',
    expected: /expected .*>=\s*1/,
  },
  {
    name: 'a passwordHash not in the scrypt format',
    edits: [[`passwordHash: ${hashFor('alice')}`, 'passwordHash: hunter2']],
    path: 'users.alice.passwordHash',
    at: 'hunter2',
    expected: /expected a hash made by `npm run server -- hash-password`/,
  },
  {
    name: 'a totpSecret from an environment variable that is not set',
    edits: [ALICE_TOTP_FROM('{ env: ALICE_TOTP }')],
    env: { OTHER_TOTP: 'JBSWY3DPEHPK3PXP' },
    path: 'users.alice.totpSecret.env',
    at: 'totpSecret:',
    expected: /environment variable ALICE_TOTP is not set/,
  },
  {
    name: 'a totpSecret from a file that cannot be read',
    edits: [ALICE_TOTP_FROM('{ file: missing-totp.txt }')],
    path: 'users.alice.totpSecret.file',
    at: 'totpSecret:',
    expected: /cannot read .*missing-totp\.txt \(ENOENT\)/,
  },
  {
    name: 'a totpSecret (from the environment) that is not base32',
    edits: [ALICE_TOTP_FROM('{ env: ALICE_TOTP }')],
    env: { ALICE_TOTP: 'not-a-secret-0189!' },
    path: 'users.alice.totpSecret',
    at: 'totpSecret:',
    expected: /expected a base32 TOTP secret of at least 16 characters/,
  },
  {
    name: 'a totpSecret (from a file) that is not base32',
    edits: [ALICE_TOTP_FROM('{ file: not-base32.txt }')],
    path: 'users.alice.totpSecret',
    at: 'totpSecret:',
    expected: /expected a base32 TOTP secret/,
  },
  {
    name: 'a reminder 0 seconds before expiry',
    edits: [['[10m, 1m]', '[10m, 0]']],
    path: 'service.reminders.1',
    at: 'reminders: [10m, 0]',
    expected: /expected at least 1 second/,
  },
  {
    name: 'a tokenTtl under a minute',
    edits: [['tokenTtl: 8h', 'tokenTtl: 59s']],
    path: 'service.tokenTtl',
    at: 'tokenTtl: 59s',
    expected: /expected at least 1 minute/,
  },
];

describe('a bad policy file', () => {
  it('is this test base, valid until edited', () => {
    expect(() => parse(BASE)).not.toThrow();
  });

  it.each(BAD_POLICIES)('refuses $name, naming the file, the field, its line and what is expected', (bad) => {
    const text = edited(BASE, bad.edits);
    const error = refusal(text, bad.env);
    expect(error.file).toBe(policyFile);
    expect(error.message).toContain(`Policy file ${policyFile} is invalid`);
    expect(error.problems.map((problem) => problem.path)).toContain(bad.path);
    const problem = error.problems.find((candidate) => candidate.path === bad.path);
    // Soft, so a failure shows everything that is wrong with the problem at once.
    expect.soft(problem?.line).toBe(lineContaining(text, bad.at));
    expect.soft(problem?.message).toMatch(bad.expected);
    expect
      .soft(error.message)
      .toContain(
        `line ${lineContaining(text, bad.at)}, ${bad.path || '(top level)'}: ${problem?.message ?? ''}`,
      );
  });

  it('reports several problems of the schema at once', () => {
    const error = refusal(
      edited(BASE, [
        ['version: 1', 'version: 2'],
        ['min: 1m', 'min: ten minutes'],
        ['seats: 2', 'seats: 0'],
        [`passwordHash: ${hashFor('bob')}`, 'passwordHash: hunter2'],
      ]),
    );
    expect(error.problems.map((problem) => problem.path).sort()).toEqual([
      'resources.db.roles.owner.seats',
      'resources.db.roles.read.duration.min',
      'users.bob.passwordHash',
      'version',
    ]);
  });

  it('reports several cross-reference and range problems at once', () => {
    const error = refusal(
      edited(BASE, [
        ['tokenTtl: 8h', 'tokenTtl: 59s'],
        ['          - eng\n', '          - engineers\n'],
        ['users: [bob]', 'users: [robert]'],
        ['default: 1h', 'default: 5h'],
      ]),
    );
    expect(error.problems.map((problem) => problem.path).sort()).toEqual([
      'resources.cloud.roles.admin.approval.stages.0.approvers.users.0',
      'resources.db.roles.read.duration.default',
      'resources.db.roles.read.requesters.0',
      'service.tokenTtl',
    ]);
  });

  it('reports a malformed field and an unknown group in the same file together', () => {
    const error = refusal(
      edited(BASE, [
        ['min: 1m', 'min: ten minutes'],
        ['          - eng\n', '          - engineers\n'],
      ]),
    );
    expect(error.problems.map((problem) => problem.path).sort()).toEqual([
      'resources.db.roles.read.duration.min',
      'resources.db.roles.read.requesters.0',
    ]);
  });

  it('names a file that does not exist', () => {
    const missing = join(workDir, 'nowhere', 'timebox.yaml');
    let caught: unknown;
    try {
      loadPolicyFile(missing, {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PolicyError);
    const error = caught as PolicyError;
    expect(error.file).toBe(missing);
    expect(error.message).toContain(missing);
    expect(error.problems).toEqual([{ path: '', line: null, message: 'cannot read the file (ENOENT)' }]);
  });
});

describe('the service', () => {
  it('refuses to start on a bad policy, naming the file and the field (exit code 2)', async () => {
    const badFile = join(workDir, 'bad.yaml');
    writeFileSync(badFile, edited(BASE, [['          - eng\n', '          - engineers\n']]));
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('TIMEBOX_') && name !== 'DATABASE_URL'),
    );
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'server/cli.ts', '--config', badFile, '--port', '0'],
      // The timeout only stops a service that wrongly started; the assertions below then fail.
      { cwd: REPO_ROOT, env: { ...env, TIMEBOX_DATA: join(workDir, 'data') }, timeout: 25_000 },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.resume();
    const exitCode = await new Promise<number | null>((resolveExit, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        resolveExit(code);
      });
    });
    expect(stderr).toContain(`Policy file ${badFile} is invalid`);
    expect(stderr).toContain('resources.db.roles.read.requesters.0');
    expect(stderr).toContain('unknown group "engineers"');
    expect(exitCode).toBe(2);
  });
});
