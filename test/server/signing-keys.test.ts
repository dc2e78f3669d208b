import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import { DEMO_POLICY_FILE } from '../../server/demo/demo.js';
import type { RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';

const HOUR = 3_600_000;

/** The demo organisation with keys rotating hourly and sandbox grants (and their tokens) of up to 4 hours. */
async function hourlyRotation(): Promise<Policy> {
  const passwordHash = await hashPassword('demo', TEST_PASSWORD_COST);
  return parsePolicy({
    file: DEMO_POLICY_FILE,
    text: readFileSync(DEMO_POLICY_FILE, 'utf8'),
    env: {},
    prepare: (raw) => {
      const policy = raw as {
        service: Record<string, unknown>;
        users: Record<string, Record<string, unknown>>;
        resources: {
          sandbox: { roles: { operator: { duration: Record<string, unknown>; credentialTtl?: string } } };
        };
      };
      policy.service.signingKeyRotation = '1h';
      policy.service.idleTimeout = '8h'; // the clock moves by hours between calls
      policy.resources.sandbox.roles.operator.duration.max = '4h';
      policy.resources.sandbox.roles.operator.credentialTtl = '4h';
      for (const user of Object.values(policy.users)) user.passwordHash = passwordHash;
      return policy;
    },
  });
}

describe.each(DATABASES)('signing keys on %s', (kind) => {
  let policy: Policy;
  let database: TestDatabase;
  let dataDir: string;
  let running: RunningService;
  const clock = new ManualClock();
  const start = (): Promise<RunningService> =>
    startService({ kind, policy, clock, database, ...(kind === 'pglite' ? { dataDir } : {}) });

  beforeAll(async () => {
    policy = await hourlyRotation();
    database = await createTestDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-keys-'));
  });
  afterAll(async () => {
    await running.stop();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const jwks = async (): Promise<JSONWebKeySet> =>
    (await running.api.get<JSONWebKeySet>('/.well-known/jwks.json')).body;
  const tokenFor = async (token: string, durationSeconds: number): Promise<string> => {
    const created = await running.api.post<RequestView>('/v1/requests', token, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds,
      reason: 'keys',
    });
    const credential = await running.api.get<{ secret: { token: string } }>(
      `/v1/grants/${created.body.grantId ?? ''}/credential`,
      token,
    );
    return credential.body.secret.token;
  };

  it('rotates, and keeps a retired key published until the last token it signed has expired', async () => {
    const startedAt = clock.now();
    running = await start();
    const alice = await running.api.login('alice');
    const [first] = (await jwks()).keys;
    const longLived = await tokenFor(alice, 3 * 3600); // signed by the first key, valid for 3 hours
    expect(decodeProtectedHeader(longLived).kid).toBe(first?.kid);

    clock.advance(HOUR + 60_000);
    const fresh = await tokenFor(alice, 600); // the first key is over an hour old: a new one signs
    const rotated = (await jwks()).keys.map((key) => key.kid);
    expect(rotated).toHaveLength(2);
    expect(rotated).toContain(first?.kid);
    expect(decodeProtectedHeader(fresh).kid).not.toBe(first?.kid);
    const keySet = createLocalJWKSet(await jwks());
    await expect(jwtVerify(longLived, keySet, { currentDate: new Date(clock.now()) })).resolves.toBeDefined();

    clock.advanceTo(startedAt + 3 * HOUR + 1000); // the long-lived token has expired
    const after = (await jwks()).keys.map((key) => key.kid);
    expect(after).toEqual([decodeProtectedHeader(fresh).kid]);
  });

  it('keeps its keys across a restart', async () => {
    await tokenFor(await running.api.login('alice'), 600); // the current key is over an hour old: rotate now
    const before = await jwks();
    await running.service.close();
    running = await start();
    expect(await jwks()).toEqual(before);
  });
});
