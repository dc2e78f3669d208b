import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntryView } from '../../api/schemas.js';
import { hashPassword, PASSWORD_COST, verifyPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, type RunningService } from '../support/service.js';

const PASSWORD = 'Violet-Harbour-Compass-5821';
const NEW_PASSWORD = 'Amber-Glacier-Tunnel-3094';
// A hash as an older hash-password made them (N = 2^15), or lower.
const OLDER_COST = { N: 2 ** 14, r: 8, p: 1 };

function policyWith(erinHash: string): Policy {
  return parsePolicy({
    file: 'passwords.test.ts',
    env: {},
    text: `
version: 1
groups:
  engineers: {}
  admins: {}
users:
  erin: { displayName: Erin Sato, passwordHash: "${erinHash}", groups: [engineers] }
  root: { displayName: Root, passwordHash: "${erinHash}", groups: [admins], admin: true }
resources:
  sandbox:
    name: Sandbox
    kind: kubernetes
    roles:
      operator:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1h }
        reasonRequired: false
        approval: auto
`,
  });
}

const fingerprint = (hash: string): string => createHash('sha256').update(hash).digest('hex');

describe.each(DATABASES)('password hashes at OWASP cost, on %s', (kind) => {
  const clock = new ManualClock();
  let database: TestDatabase;
  let dataDir: string;
  let running: RunningService | null = null;

  // The service's own default cost (N = 2^17), not the suites' cheap one.
  const start = (policy: Policy): Promise<RunningService> =>
    startService({
      kind,
      policy,
      clock,
      database,
      passwordCost: PASSWORD_COST,
      ...(kind === 'pglite' ? { dataDir } : {}),
    });
  const signIn = (username: string, password: string) =>
    running?.api.post<{ token: string }>('/v1/auth/login', undefined, { username, password });
  const upgrades = async () =>
    (await running?.service.db.query<{ user_id: string; replaces: string; hash: string }>(
      'SELECT user_id, replaces, hash FROM password_upgrades ORDER BY user_id',
    )) ?? [];

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-passwords-'));
  });
  afterEach(async () => {
    await running?.stop();
    running = null;
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('upgrades an older hash at the next successful sign-in, keeps it in the database and prefers it', async () => {
    const older = await hashPassword(PASSWORD, OLDER_COST);
    running = await start(policyWith(older));
    // A wrong password upgrades nothing.
    expect((await signIn('erin', 'Not-Her-Password-0000'))?.status).toBe(401);
    expect(await upgrades()).toEqual([]);

    expect((await signIn('erin', PASSWORD))?.status).toBe(200);
    const [upgrade, ...others] = await upgrades();
    expect(others).toEqual([]);
    expect(upgrade).toMatchObject({ user_id: 'erin', replaces: fingerprint(older) });
    expect(upgrade?.hash).toMatch(/^scrypt:131072:8:1:/);
    expect(await verifyPassword(PASSWORD, upgrade?.hash ?? '')).toBe(true);

    // The next sign-in checks the upgraded hash: nothing is upgraded twice.
    expect((await signIn('erin', PASSWORD))?.status).toBe(200);
    const admin = (await signIn('root', PASSWORD))?.body.token ?? '';
    const audit = await running.api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=1000', admin);
    const upgraded = audit.body.items.filter((entry) => entry.action === 'password.upgraded');
    expect(upgraded.map((entry) => [entry.subjectId, entry.data])).toEqual([
      ['erin', { from: 'N=16384 r=8 p=1', to: 'N=131072 r=8 p=1' }],
      ['root', { from: 'N=16384 r=8 p=1', to: 'N=131072 r=8 p=1' }],
    ]);
    // Never the hash itself in the log.
    expect(JSON.stringify(audit.body.items)).not.toContain(upgrade?.hash.split(':')[5]);
  });

  it('lets a password changed in the policy file win over the upgrade of the old one', async () => {
    running = await start(policyWith(await hashPassword(PASSWORD, OLDER_COST)));
    expect((await signIn('erin', PASSWORD))?.status).toBe(200);
    await running.stop();
    running = await start(policyWith(await hashPassword(NEW_PASSWORD, OLDER_COST)));
    expect((await signIn('erin', PASSWORD))?.status).toBe(401);
    expect((await signIn('erin', NEW_PASSWORD))?.status).toBe(200);
    expect(await verifyPassword(NEW_PASSWORD, (await upgrades())[0]?.hash ?? '')).toBe(true);
  });

  it('leaves a hash at the service cost as it is', async () => {
    running = await start(policyWith(await hashPassword(PASSWORD)));
    expect((await signIn('erin', PASSWORD))?.status).toBe(200);
    expect(await upgrades()).toEqual([]);
  });
});
