import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import type { DeliveryView } from '../../api/admin-schemas.js';
import type { Policy, WebhookTarget } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES, postgresAvailable, type TestDatabase } from '../support/databases.js';
import { Housekeeping, RETENTION } from '../../server/ops/housekeeping.js';
import { ManualClock } from '../support/manual-clock.js';
import { demoOrganisation, settle, startService, type RunningService } from '../support/service.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

const PROD_READ = { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'order 1234' };
const SANDBOX = { resourceId: 'sandbox', role: 'operator', durationSeconds: 300, reason: '' };

const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

interface ErrorBody {
  readonly error: { readonly code: string };
}

async function withWebhooks(
  hooks: readonly {
    id: string;
    receiver: WebhookReceiver;
    secret: string;
    events?: WebhookTarget['events'];
  }[],
): Promise<Policy> {
  const policy = await demoOrganisation();
  return {
    ...policy,
    channels: {
      webhooks: hooks.map((hook) => ({
        id: hook.id,
        url: hook.receiver.url,
        secret: hook.secret,
        events: hook.events ?? null,
      })),
      email: null,
      retryForSeconds: 60,
      timeoutSeconds: 1,
    },
  };
}

describe.each(DATABASES)('webhooks on %s', (kind) => {
  const secret = newSecret();
  const auditSecret = newSecret();
  let everything: WebhookReceiver;
  let activations: WebhookReceiver;
  let running: RunningService;
  let alice: string;
  let bob: string;
  let admin: string;

  beforeEach(async () => {
    everything = await WebhookReceiver.start(secret);
    activations = await WebhookReceiver.start(auditSecret);
    const policy = await withWebhooks([
      { id: 'siem', receiver: everything, secret },
      { id: 'activations', receiver: activations, secret: auditSecret, events: new Set(['grant.activated']) },
    ]);
    // Standard Webhooks receivers refuse a timestamp 5 minutes off their clock: start at the real time.
    running = await startService({ kind, policy, clock: new ManualClock(Date.now()) });
    [alice, bob, admin] = (await Promise.all(
      ['alice', 'bob', 'admin'].map((user) => running.api.login(user)),
    )) as [string, string, string];
  });
  afterEach(async () => {
    await running.stop();
    await everything.close();
    await activations.close();
  });

  async function deliveries(query = ''): Promise<DeliveryView[]> {
    const response = await running.api.get<{ items: DeliveryView[] }>(`/v1/admin/deliveries${query}`, admin);
    expect(response.status).toBe(200);
    return response.body.items;
  }

  it('tells each receiver the steps it asked for, signed, with a stable id and no credential', async () => {
    const created = await running.api.post<RequestView>('/v1/requests', alice, PROD_READ);
    expect(created.status).toBe(201);
    const approved = await running.api.post<RequestView>(`/v1/requests/${created.body.id}/approve`, bob, {});
    expect(approved.status).toBe(200);
    const grantId = approved.body.grantId;
    const credential = await running.api.get<{ token: string }>(
      `/v1/grants/${String(grantId)}/credential`,
      alice,
    );
    expect(credential.status).toBe(200);
    await settle(running.service);

    expect(everything.refused).toEqual([]);
    // Deliveries run side by side: they may arrive in any order (receivers order them by timestamp).
    const byType = (type: string) => everything.received.find((call) => call.type === type);
    expect(everything.received.map((call) => call.type).sort()).toEqual([
      'grant.activated',
      'request.approved',
      'request.created',
    ]);
    const [createdCall, approvedCall, activatedCall] = [
      byType('request.created'),
      byType('request.approved'),
      byType('grant.activated'),
    ];
    expect(createdCall?.body.data).toMatchObject({
      id: created.body.id,
      status: 'pending',
      requesterId: 'alice',
    });
    expect(approvedCall?.body.data).toMatchObject({ id: created.body.id, status: 'approved', grantId });
    expect(activatedCall?.body).toMatchObject({
      type: 'grant.activated',
      timestamp: new Date(running.clock.now()).toISOString(),
      data: { id: grantId, userId: 'alice', status: 'active' },
    });
    // The token the owner fetched appears in no webhook.
    for (const call of everything.received) expect(call.rawBody).not.toContain(credential.body.token);
    expect(activations.received.map((call) => call.type)).toEqual(['grant.activated']);
    // Each receiver has deliveries of its own, each with its own id.
    expect(activations.ids()[0]).not.toBe(activatedCall?.id);

    const listed = await deliveries('?status=delivered');
    expect(listed).toHaveLength(4);
    expect(new Set(listed.map((item) => item.id))).toEqual(
      new Set([...everything.ids(), ...activations.ids()]),
    );
    expect(listed.find((item) => item.id === activations.ids()[0])).toMatchObject({
      channel: 'webhook',
      target: 'activations',
      eventType: 'grant.activated',
      status: 'delivered',
      attempts: 1,
      lastError: null,
      nextAttemptAt: null,
    });
    expect(await deliveries('?status=failed')).toEqual([]);
    expect(await deliveries('?channel=slack')).toEqual([]);
  });

  it('keeps finished deliveries for the retention period, then lets housekeeping delete them', async () => {
    const created = await running.api.post<RequestView>('/v1/requests', alice, SANDBOX);
    expect(created.status).toBe(201);
    await settle(running.service);
    expect(await deliveries('?status=delivered')).toHaveLength(4);
    const sweep = (): Promise<void> =>
      new Housekeeping(running.service.db, running.clock, (error) => {
        throw error;
      }).sweep();
    // Sessions end long before: the rows are read directly.
    const stored = async (): Promise<number> =>
      (await running.service.deliveries.list({ limit: 100 })).length;
    // The grant expires 5 minutes in: its grant.ended is delivered then, and kept 5 minutes longer.
    await running.advance(RETENTION.finishedDeliveriesMs - 60_000);
    await sweep();
    expect(await stored()).toBe(5);
    await running.advance(120_000);
    await sweep();
    expect((await running.service.deliveries.list({ limit: 100 })).map((row) => row.event_type)).toEqual([
      'grant.ended',
    ]);
  });

  it('retries a receiver that answers 500 with the same id, then keeps it as a dead letter to send again', async () => {
    everything.behaviour = 'fail';
    const created = await running.api.post<RequestView>('/v1/requests', alice, SANDBOX);
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('approved');
    await settle(running.service);
    const first = everything.received.filter((call) => call.type === 'grant.activated');
    expect(first).toHaveLength(1);
    // 5 s, 10 s and 20 s after the first attempt; the next would come 40 s later, past the minute it has.
    await running.advance(5_000);
    const [pending] = (await deliveries('?status=pending')).filter(
      (item) => item.eventType === 'grant.activated',
    );
    expect(pending).toMatchObject({ attempts: 2, lastError: 'the receiver answered 500' });
    for (const step of [10_000, 20_000, 40_000]) await running.advance(step);
    const attempts = everything.received.filter((call) => call.type === 'grant.activated');
    expect(attempts).toHaveLength(4);
    expect(new Set(attempts.map((call) => call.id)).size).toBe(1);
    const dead = (await deliveries('?status=failed')).filter((item) => item.target === 'siem');
    expect(dead.map((item) => item.eventType).sort()).toEqual([
      'grant.activated',
      'request.approved',
      'request.created',
    ]);
    const letter = dead.find((item) => item.eventType === 'grant.activated');
    expect(letter).toMatchObject({
      status: 'failed',
      attempts: 4,
      nextAttemptAt: null,
      lastError: 'the receiver answered 500',
    });

    // Only an administrator sends it again; a delivered or unknown one cannot be.
    const byAlice = await running.api.post<ErrorBody>(
      `/v1/admin/deliveries/${String(letter?.id)}/retry`,
      alice,
    );
    expect(byAlice.status).toBe(403);
    expect((await running.api.get<ErrorBody>('/v1/admin/deliveries', alice)).status).toBe(403);
    const delivered = (await deliveries('?status=delivered'))[0];
    const notFailed = await running.api.post<ErrorBody>(
      `/v1/admin/deliveries/${String(delivered?.id)}/retry`,
      admin,
    );
    expect(notFailed.status).toBe(409);
    expect(notFailed.body.error.code).toBe('delivery_not_failed');
    const unknown = await running.api.post<ErrorBody>(
      '/v1/admin/deliveries/dlv_00000000000000000000/retry',
      admin,
    );
    expect(unknown.status).toBe(404);
    expect((await running.api.get<ErrorBody>('/v1/admin/deliveries?status=lost', admin)).status).toBe(400);

    everything.behaviour = 'accept';
    const retried = await running.api.post<DeliveryView>(
      `/v1/admin/deliveries/${String(letter?.id)}/retry`,
      admin,
    );
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('pending');
    await settle(running.service);
    const last = everything.received.at(-1);
    expect(last).toMatchObject({ id: letter?.id, type: 'grant.activated', answer: 'accept' });
    expect((await deliveries('?status=delivered')).find((item) => item.id === letter?.id)).toMatchObject({
      attempts: 5,
    });
    expect(everything.refused).toEqual([]);
  });

  it('answers a decision while a receiver never answers, and retries it after the timeout', async () => {
    everything.behaviour = 'hang';
    const created = await running.api.post<RequestView>('/v1/requests', alice, PROD_READ);
    expect(created.status).toBe(201);
    const approved = await running.api.post<RequestView>(`/v1/requests/${created.body.id}/approve`, bob, {});
    // The decision is answered with the receiver still holding the call it got before it.
    expect(approved.status).toBe(200);
    expect(everything.waiting).toBeGreaterThan(0);
    await settle(running.service);
    const [stuck] = (await deliveries('?status=pending')).filter(
      (item) => item.eventType === 'request.created',
    );
    expect(stuck).toMatchObject({ attempts: 1, lastError: 'no answer within 1 s' });
    everything.behaviour = 'accept';
    await running.advance(5_000);
    const createdCalls = everything.received.filter((call) => call.type === 'request.created');
    expect(createdCalls.map((call) => call.answer)).toEqual(['hang', 'accept']);
    expect(createdCalls[0]?.id).toBe(createdCalls[1]?.id);
  });
});

describe.runIf(postgresAvailable())('webhooks from two instances on PostgreSQL', () => {
  let database: TestDatabase;
  let receiver: WebhookReceiver;
  const instances: RunningService[] = [];

  beforeEach(async () => {
    database = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    for (const instance of instances.splice(0)) await instance.stop();
    await receiver.close();
    await database.drop();
  });

  it('sends each delivery once per attempt when both instances claim at the same moment', async () => {
    const secret = newSecret();
    receiver = await WebhookReceiver.start(secret);
    const policy = await withWebhooks([{ id: 'siem', receiver, secret }]);
    const clock = new ManualClock(Date.now());
    for (let index = 0; index < 2; index++) {
      instances.push(await startService({ kind: 'postgres', policy, clock, database }));
    }
    const [first, second] = instances as [RunningService, RunningService];
    receiver.behaviour = 'fail';
    const tokens = await Promise.all(['alice', 'carol', 'dave'].map((user) => first.api.login(user)));
    await Promise.all(tokens.map((token) => first.api.post('/v1/requests', token, SANDBOX)));
    await settle(first.service);
    // Three requests, each created, approved and activated: nine deliveries, each failed once.
    expect(receiver.received).toHaveLength(9);
    receiver.behaviour = 'accept';
    // Both schedulers wake at the retry time and claim together.
    clock.advance(5_000);
    await Promise.all([settle(first.service), settle(second.service)]);
    const byId = new Map<string, number>();
    for (const id of receiver.ids()) byId.set(id, (byId.get(id) ?? 0) + 1);
    expect([...byId.values()]).toEqual(Array.from({ length: 9 }, () => 2));
    expect(receiver.refused).toEqual([]);
  });

  it('a stop abandons a send still waiting on its receiver, records it as a failed attempt, and another instance sends it', async () => {
    const secret = newSecret();
    receiver = await WebhookReceiver.start(secret);
    const policy = await withWebhooks([{ id: 'siem', receiver, secret }]);
    // A receiver given 5 minutes to answer: the stop must not wait for it.
    const patient: Policy = {
      ...policy,
      channels: {
        ...(policy.channels ?? { webhooks: [], email: null, retryForSeconds: 60 }),
        timeoutSeconds: 300,
      },
    };
    const clock = new ManualClock(Date.now());
    const first = await startService({ kind: 'postgres', policy: patient, clock, database });
    instances.push(first);
    receiver.behaviour = 'hang';
    const token = await first.api.login('alice');
    expect((await first.api.post('/v1/requests', token, SANDBOX)).status).toBe(201);
    while (receiver.waiting < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    await first.stop();

    receiver.behaviour = 'accept';
    const second = await startService({ kind: 'postgres', policy: patient, clock, database });
    instances.push(second);
    const abandoned = await second.service.deliveries.list({ status: 'pending', limit: 10 });
    expect(abandoned.map((row) => row.last_error)).toEqual(
      Array.from({ length: 3 }, () => 'the service stopped before the receiver answered'),
    );
    await second.advance(5_000);
    expect((await second.service.deliveries.list({ status: 'delivered', limit: 10 })).length).toBe(3);
  });
});
