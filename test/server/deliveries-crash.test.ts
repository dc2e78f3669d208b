import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../server/auth/passwords.js';
import { loadPolicyFile } from '../../server/config/load.js';
import { startServer, type ServerProcess } from '../support/cli-process.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { Api } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const PASSWORD = 'correct horse battery';
const LEASE_MS = 60_000;

async function policyText(receiverUrl: string): Promise<string> {
  return `version: 1
groups:
  eng: {}
users:
  alice: { displayName: Alice, passwordHash: "${await hashPassword(PASSWORD, TEST_PASSWORD_COST)}", groups: [eng] }
resources:
  sandbox:
    name: Sandbox
    kind: cloud-role
    roles:
      operator:
        requesters: [eng]
        duration: { min: 1m, default: 5m, max: 1h }
        approval: auto
channels:
  webhooks:
    - { id: siem, url: "${receiverUrl}", secretEnv: HOOK_SECRET }
`;
}

describe.each(DATABASES)('deliveries after kill -9 on %s', (kind) => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  let folder: string;
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  let child: ServerProcess | null = null;
  let successor: RunningService | null = null;

  beforeEach(async () => {
    folder = mkdtempSync(join(tmpdir(), 'timebox-deliveries-'));
    database = await createTestDatabase(kind);
    receiver = await WebhookReceiver.start(secret);
  });
  afterEach(async () => {
    await child?.killGroup();
    await successor?.stop();
    await receiver.close();
    await database.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('sends what an instance killed mid-delivery had claimed, with the same ids, once its lease ends', async () => {
    const policyFile = join(folder, 'policy.yaml');
    writeFileSync(policyFile, await policyText(receiver.url));
    const dataDir = join(folder, 'data');
    receiver.behaviour = 'hang';
    child = startServer(['--config', policyFile, '--port', '0', '--data', dataDir], {
      HOOK_SECRET: secret,
      DATABASE_URL: database.url ?? '',
    });
    const api = new Api(await child.listening());
    const alice = await api.login('alice', PASSWORD);
    const created = await api.post<{ status: string }>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 300,
      reason: 'try the new queue',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    // Created, approved, activated: all three are in the receiver's hands, unanswered, when it dies.
    while (receiver.waiting < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    child.signalGroup('SIGKILL');
    expect((await child.exit).signal).toBe('SIGKILL');

    receiver.behaviour = 'accept';
    const policy = loadPolicyFile(policyFile, { HOOK_SECRET: secret });
    // Another instance, once the dead one's leases have run out.
    successor = await startService({
      kind,
      policy,
      database,
      ...(kind === 'pglite' ? { dataDir } : {}),
      clock: new ManualClock(Date.now() + LEASE_MS + 1000),
    });
    const delivered = await successor.service.deliveries.list({ status: 'delivered', limit: 10 });
    expect(delivered.map((row) => row.event_type).sort()).toEqual([
      'grant.activated',
      'request.approved',
      'request.created',
    ]);
    expect(delivered.every((row) => row.attempts === 2)).toBe(true);
    const hung = receiver.received.filter((call) => call.answer === 'hang').map((call) => call.id);
    const accepted = receiver.received.filter((call) => call.answer === 'accept').map((call) => call.id);
    expect(accepted.sort()).toEqual(hung.sort());
    expect(new Set(accepted)).toEqual(new Set(delivered.map((row) => row.id)));
    expect(receiver.refused).toEqual([]);
  });
});
