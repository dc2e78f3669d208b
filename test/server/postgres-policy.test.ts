import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from '../../server/config/load.js';
import { demoPolicy } from '../../server/demo/demo.js';

const HASH = 'scrypt:16384:8:1:AAAAAAAAAAAAAAAAAAAAAA==:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const ADMIN_URL = 'postgres://timebox_admin:s3cret-admin@db.internal:6543/warehouse?sslmode=require';

/** A policy with one postgres resource; `edits` replace text in it, as a person editing it would. */
function policyText(edits: readonly [string, string][] = []): string {
  let text = `version: 1
groups: { engineers: {} }
users:
  alice: { displayName: Alice, groups: [engineers], passwordHash: "${HASH}" }
resources:
  warehouse:
    name: Warehouse
    kind: postgres
    postgres:
      admin: { env: WAREHOUSE_ADMIN_URL }
      rolePrefix: wh_
    roles:
      read:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1h }
        approval: auto
        postgres: { memberOf: [pg_read_all_data], schemas: { reporting: [SELECT] } }
`;
  for (const [from, to] of edits) {
    if (!text.includes(from)) throw new Error(`the policy has no "${from}" to edit`);
    text = text.replace(from, to);
  }
  return text;
}

function problemsOf(text: string, env: NodeJS.ProcessEnv = { WAREHOUSE_ADMIN_URL: ADMIN_URL }): PolicyError {
  try {
    parsePolicy({ file: '/etc/timebox/policy.yaml', text, env });
  } catch (error) {
    if (error instanceof PolicyError) return error;
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

describe('postgres resources in the policy', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'timebox-pg-policy-'));
  });
  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  it('reads the admin URL from the environment, and where clients connect from it', () => {
    const policy = parsePolicy({
      file: '/etc/timebox/policy.yaml',
      text: policyText(),
      env: { WAREHOUSE_ADMIN_URL: ADMIN_URL },
    });
    const resource = policy.resources.get('warehouse');
    expect(resource?.postgres).toEqual({
      adminUrl: ADMIN_URL,
      host: 'db.internal',
      port: 6543,
      database: 'warehouse',
      sslmode: 'require',
      connectionLimit: 5,
      rolePrefix: 'wh_',
    });
    expect(resource?.roles.get('read')?.postgres).toEqual({
      memberOf: ['pg_read_all_data'],
      schemas: new Map([['reporting', ['SELECT']]]),
    });
  });

  it('reads it from a file beside the policy, and takes where clients connect from the policy', () => {
    const file = join(folder, 'admin-url');
    writeFileSync(file, `${ADMIN_URL}\n`);
    const policy = parsePolicy({
      file: join(folder, 'policy.yaml'),
      text: policyText([
        [
          'admin: { env: WAREHOUSE_ADMIN_URL }',
          'admin: { file: admin-url }\n      connect: { host: "db.example.com", port: 5432, database: dw }\n      sslmode: verify-full\n      connectionLimit: 2',
        ],
      ]),
      env: {},
    });
    expect(policy.resources.get('warehouse')?.postgres).toMatchObject({
      adminUrl: ADMIN_URL,
      host: 'db.example.com',
      port: 5432,
      database: 'dw',
      sslmode: 'verify-full',
      connectionLimit: 2,
    });
  });

  it.each([
    {
      name: 'a credentialTtl on a role whose credential is a login',
      edits: [['        approval: auto\n', '        approval: auto\n        credentialTtl: 5m\n']],
      path: 'resources.warehouse.roles.read.credentialTtl',
      message:
        'a postgres login lives until its grant ends and is dropped at once when it is revoked: credentialTtl does not apply',
    },
    {
      name: 'no postgres block on a postgres resource',
      edits: [['    postgres:\n      admin: { env: WAREHOUSE_ADMIN_URL }\n      rolePrefix: wh_\n', '']],
      path: 'resources.warehouse.postgres',
      message: 'missing; a postgres resource needs postgres.admin',
    },
    {
      name: 'a postgres block on another kind',
      edits: [
        ['kind: postgres', 'kind: database'],
        ['        postgres: { memberOf', '        # '],
        ['reporting: [SELECT] } }', ''],
      ],
      path: 'resources.warehouse.postgres',
      message: 'only a resource of kind postgres takes this field',
    },
    {
      name: 'a role that does not say what its login may do',
      edits: [['        postgres: { memberOf: [pg_read_all_data], schemas: { reporting: [SELECT] } }\n', '']],
      path: 'resources.warehouse.roles.read.postgres',
      message: 'missing; say what the login may do (memberOf, schemas)',
    },
    {
      name: 'a login that may do nothing',
      edits: [['{ memberOf: [pg_read_all_data], schemas: { reporting: [SELECT] } }', '{}']],
      path: 'resources.warehouse.roles.read.postgres',
      message: 'expected memberOf or schemas: a login that can do nothing is no grant',
    },
    {
      name: 'a privilege PostgreSQL does not have on tables',
      edits: [['reporting: [SELECT]', 'reporting: [SELECT, DROP]']],
      path: 'resources.warehouse.roles.read.postgres.schemas.reporting.1',
      message: 'expected one of SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER',
    },
    {
      name: 'a group name that would be SQL',
      edits: [['memberOf: [pg_read_all_data]', 'memberOf: ["pg_read_all_data; DROP ROLE admin"]']],
      path: 'resources.warehouse.roles.read.postgres.memberOf.0',
      message: 'expected a PostgreSQL name',
    },
    {
      name: 'a schema name that would be SQL',
      edits: [['reporting: [SELECT]', '"public\\" CASCADE": [SELECT]']],
      path: 'resources.warehouse.roles.read.postgres.schemas',
      message: 'expected a PostgreSQL name',
    },
    {
      name: 'a role prefix too long for a role name',
      edits: [['rolePrefix: wh_', 'rolePrefix: a_prefix_much_longer_than_twenty']],
      path: 'resources.warehouse.postgres.rolePrefix',
      message: 'expected up to 20 lowercase letters',
    },
    {
      name: 'an unknown sslmode',
      edits: [['rolePrefix: wh_', 'sslmode: always']],
      path: 'resources.warehouse.postgres.sslmode',
      message: 'expected one of disable, allow, prefer, require, verify-ca, verify-full',
    },
    {
      name: 'the admin URL written into the policy',
      edits: [['admin: { env: WAREHOUSE_ADMIN_URL }', `admin: "${ADMIN_URL}"`]],
      path: 'resources.warehouse.postgres.admin',
      message: '',
    },
  ])('refuses $name, naming the field', ({ edits, path, message }) => {
    const error = problemsOf(policyText(edits as [string, string][]));
    const problem = error.problems.find((candidate) => candidate.path.startsWith(path));
    expect(problem, error.message).toBeDefined();
    expect(problem?.message).toContain(message);
    expect(error.message).toContain('/etc/timebox/policy.yaml');
    expect(error.message).not.toContain('s3cret-admin');
  });

  it.each([
    [{}, 'environment variable WAREHOUSE_ADMIN_URL is not set'],
    [{ WAREHOUSE_ADMIN_URL: '  ' }, 'environment variable WAREHOUSE_ADMIN_URL is not set'],
    [
      { WAREHOUSE_ADMIN_URL: 'not a url s3cret-admin' },
      'expected environment variable WAREHOUSE_ADMIN_URL to hold a postgres:// URL',
    ],
    [
      { WAREHOUSE_ADMIN_URL: 'mysql://root:s3cret-admin@db/x' },
      'expected environment variable WAREHOUSE_ADMIN_URL to hold a postgres:// URL with a host',
    ],
  ])('refuses an admin URL it cannot use (%j), without repeating it', (env, message) => {
    const error = problemsOf(policyText(), env);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('s3cret-admin');
  });

  it('refuses an admin URL file it cannot read', () => {
    const error = problemsOf(
      policyText([['admin: { env: WAREHOUSE_ADMIN_URL }', 'admin: { file: missing-url }']]),
      {},
    );
    expect(error.message).toContain(
      'resources.warehouse.postgres.admin.file: cannot read /etc/timebox/missing-url (ENOENT)',
    );
  });

  it('adds the analytics database to the demo only when TIMEBOX_DEMO_POSTGRES_URL is set', async () => {
    expect((await demoPolicy('demo', {})).resources.has('analytics-db')).toBe(false);
    const demo = await demoPolicy('demo', {
      TIMEBOX_DEMO_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/analytics',
    });
    const analytics = demo.resources.get('analytics-db');
    expect(analytics?.kind).toBe('postgres');
    expect(analytics?.postgres).toMatchObject({ host: '127.0.0.1', port: 5432, database: 'analytics' });
    expect(analytics?.roles.get('read')).toMatchObject({
      minDurationSeconds: 10,
      approval: { mode: 'auto' },
      postgres: { memberOf: ['pg_read_all_data'] },
    });
    expect(analytics?.roles.get('write')?.approval.mode).toBe('any');
  });
});
