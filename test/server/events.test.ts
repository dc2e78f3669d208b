import type { EventSourceMessage } from 'eventsource-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

interface Expiring {
  readonly grant: GrantView;
  readonly secondsLeft: number;
}

const SECOND = 1000;
const EVENT_TYPES = [
  'approval.needed',
  'request.updated',
  'grant.activated',
  'grant.extended',
  'grant.expiring',
  'grant.ended',
];

const iso = (ms: number): string => new Date(ms).toISOString();
const summary = (events: readonly EventSourceMessage[]): [string | undefined, string | undefined][] =>
  events.map((event) => [event.id, event.event]);
const parse = (event: EventSourceMessage): unknown => JSON.parse(event.data);

const isRequest =
  (id: string, status?: RequestView['status']) =>
  (data: unknown): boolean => {
    const request = data as RequestView;
    return request.id === id && (status === undefined || request.status === status);
  };
const isGrant =
  (id: string) =>
  (data: unknown): boolean =>
    (data as GrantView).id === id;
const expiringFor =
  (id: string, secondsLeft?: number) =>
  (data: unknown): boolean => {
    const expiring = data as Expiring;
    return expiring.grant.id === id && (secondsLeft === undefined || expiring.secondsLeft === secondsLeft);
  };
const hasId = (id: string) => (event: EventSourceMessage) => event.id === id;

/** Whether an event is about something of `userId`'s: their request or their grant. */
function concerns(event: EventSourceMessage, userId: string): boolean {
  const data = parse(event) as { requesterId?: string; userId?: string; grant?: GrantView };
  return data.requesterId === userId || data.userId === userId || data.grant?.userId === userId;
}

describe.each(DATABASES)('the live event stream on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let dave: string;
  let bob: string;
  let carol: string;
  const streams: EventStream[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
    [alice, dave, bob, carol] = (await Promise.all(
      ['alice', 'dave', 'bob', 'carol'].map((user) => running.api.login(user)),
    )) as [string, string, string, string];
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await running.stop();
  });

  async function open(token: string, lastEventId?: string): Promise<EventStream> {
    const stream = await EventStream.open(running.url, token, lastEventId);
    streams.push(stream);
    return stream;
  }

  async function create(
    token: string,
    body: { resourceId: string; role: string; durationSeconds: number; reason: string; ticket?: string },
  ): Promise<RequestView> {
    const response = await running.api.post<RequestView>('/v1/requests', token, body);
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body;
  }

  async function sandboxGrant(token: string, durationSeconds: number): Promise<string> {
    const created = await create(token, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds,
      reason: '',
    });
    expect(created.status).toBe('approved');
    return created.grantId ?? '';
  }

  async function relinquish(token: string, grantId: string): Promise<void> {
    const response = await running.api.post(`/v1/grants/${grantId}/revoke`, token, {});
    expect(response.status).toBe(200);
  }

  async function approve(token: string, requestId: string): Promise<void> {
    const response = await running.api.post(`/v1/requests/${requestId}/approve`, token, {});
    expect(response.status).toBe(200);
  }

  it('sends each event with an id, a type and JSON data, numbered one by one per user', async () => {
    const aliceEvents = await open(alice);
    const bobEvents = await open(bob);
    const created = await create(alice, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 3600,
      reason: 'investigate order 1234',
    });
    await bobEvents.until(() => bobEvents.events.some(hasId('2')), 'bob’s second event');
    await aliceEvents.until(() => aliceEvents.events.some(hasId('1')), 'alice’s first event');
    expect(summary(aliceEvents.events)).toEqual([['1', 'request.updated']]);
    expect(summary(bobEvents.events)).toEqual([
      ['1', 'approval.needed'],
      ['2', 'request.updated'],
    ]);

    await approve(bob, created.id);
    await aliceEvents.until(() => aliceEvents.events.some(hasId('3')), 'alice’s third event');
    await bobEvents.until(() => bobEvents.events.some(hasId('3')), 'bob’s third event');
    expect(summary(aliceEvents.events)).toEqual([
      ['1', 'request.updated'],
      ['2', 'grant.activated'],
      ['3', 'request.updated'],
    ]);
    expect(summary(bobEvents.events)).toEqual([
      ['1', 'approval.needed'],
      ['2', 'request.updated'],
      ['3', 'request.updated'],
    ]);

    for (const event of [...aliceEvents.events, ...bobEvents.events]) {
      expect(event.id).toMatch(/^\d+$/);
      expect(EVENT_TYPES).toContain(event.event);
      expect(() => parse(event)).not.toThrow();
    }
    const [first, activated, last] = aliceEvents.events.map(parse) as [RequestView, GrantView, RequestView];
    expect(first).toMatchObject({ id: created.id, status: 'pending' });
    expect(activated).toMatchObject({ requestId: created.id, userId: 'alice', status: 'active' });
    expect(last).toMatchObject({ id: created.id, status: 'approved', grantId: activated.id });
  });

  it('resumes with Last-Event-ID: exactly the missed events, in order, and nothing before', async () => {
    const before = await open(alice);
    const first = await sandboxGrant(alice, 600);
    await before.until(() => before.events.some(hasId('2')), 'the first two events');
    expect(summary(before.events)).toEqual([
      ['1', 'grant.activated'],
      ['2', 'request.updated'],
    ]);
    before.close();
    await before.until(() => running.service.hub.openStreams === 0, 'the service to drop the stream');

    // Missed while disconnected: 3, 4 and 5.
    await relinquish(alice, first);
    const second = await sandboxGrant(alice, 600);

    const resumed = await open(alice, '2');
    await resumed.until(() => resumed.events.some(hasId('5')), 'the replayed events');
    await relinquish(alice, second);
    await resumed.until(() => resumed.events.some(hasId('6')), 'the next live event');
    expect(summary(resumed.events)).toEqual([
      ['3', 'grant.ended'],
      ['4', 'grant.activated'],
      ['5', 'request.updated'],
      ['6', 'grant.ended'],
    ]);
    expect(parse(resumed.events[0] as EventSourceMessage)).toMatchObject({ id: first, status: 'revoked' });
    expect(parse(resumed.events[1] as EventSourceMessage)).toMatchObject({ id: second, status: 'active' });
    expect(parse(resumed.events[3] as EventSourceMessage)).toMatchObject({ id: second, status: 'revoked' });

    const fromStart = await open(alice, '0');
    await fromStart.until(() => fromStart.events.some(hasId('6')), 'the whole history');
    expect(fromStart.events.map((event) => event.id)).toEqual(['1', '2', '3', '4', '5', '6']);

    const garbage = await EventStream.open(running.url, alice, 'not-a-number');
    expect(garbage.status).toBe(400);
  });

  it('starts at the newest event when no Last-Event-ID is sent: no replay', async () => {
    const first = await sandboxGrant(alice, 600);
    const stream = await open(alice);
    await relinquish(alice, first);
    await stream.next('grant.ended', isGrant(first));
    expect(summary(stream.events)).toEqual([['3', 'grant.ended']]);
  });

  it('reminds the owner 10 minutes and 1 minute before a 30-minute grant expires, then ends it', async () => {
    const { clock } = running;
    const stream = await open(alice);
    const start = clock.now();
    const grantId = await sandboxGrant(alice, 1800);

    await running.advance(1199 * SECOND);
    await running.advance(SECOND);
    const tenMinutes = (await stream.next('grant.expiring', expiringFor(grantId))) as Expiring;
    expect(tenMinutes.secondsLeft).toBe(600);
    expect(tenMinutes.grant).toMatchObject({
      id: grantId,
      status: 'active',
      expiresAt: iso(start + 1800 * SECOND),
    });

    await running.advance(540 * SECOND);
    const oneMinute = (await stream.next('grant.expiring', expiringFor(grantId, 60))) as Expiring;
    expect(oneMinute.grant.id).toBe(grantId);

    await running.advance(60 * SECOND);
    const ended = (await stream.next('grant.ended', isGrant(grantId))) as GrantView;
    expect(ended).toMatchObject({
      status: 'expired',
      endReason: 'expired',
      expiresAt: iso(start + 1800 * SECOND),
      endedAt: iso(start + 1800 * SECOND),
    });
    const reminders = stream.of('grant.expiring').map((event) => (parse(event) as Expiring).secondsLeft);
    expect(reminders).toEqual([600, 60]);
    expect(summary(stream.events).map(([, type]) => type)).toEqual([
      'grant.activated',
      'request.updated',
      'grant.expiring',
      'grant.expiring',
      'grant.ended',
    ]);
  });

  it('skips a reminder lead longer than the grant: a 5-minute grant gets only the 1-minute one', async () => {
    const stream = await open(alice);
    const grantId = await sandboxGrant(alice, 300);

    await running.advance(240 * SECOND);
    const reminder = (await stream.next('grant.expiring', expiringFor(grantId))) as Expiring;
    expect(reminder.secondsLeft).toBe(60);

    await running.advance(60 * SECOND);
    await stream.next('grant.ended', isGrant(grantId));
    expect(stream.of('grant.expiring').map((event) => (parse(event) as Expiring).secondsLeft)).toEqual([60]);
  });

  it('sends events only to the users they concern; approvers only when asked', async () => {
    const aliceEvents = await open(alice);
    const daveEvents = await open(dave);
    const bobEvents = await open(bob);
    const carolEvents = await open(carol);

    const chain = await create(alice, {
      resourceId: 'cloud-admin',
      role: 'administrator',
      durationSeconds: 3600,
      reason: 'rotate keys',
      ticket: 'INC-9',
    });
    await bobEvents.next('approval.needed', isRequest(chain.id));
    await aliceEvents.next('request.updated', isRequest(chain.id));

    // Barriers: a user's events arrive in order, so once their own later event is here, anything
    // meant for them before it would be here too.
    const daveGrant = await sandboxGrant(dave, 600);
    await daveEvents.next('grant.activated', isGrant(daveGrant));
    const carolGrant = await sandboxGrant(carol, 600);
    await carolEvents.next('grant.activated', isGrant(carolGrant));
    expect(carolEvents.of('approval.needed')).toEqual([]);
    expect(carolEvents.events.every((event) => concerns(event, 'carol'))).toBe(true);

    await approve(bob, chain.id);
    const needed = (await carolEvents.next('approval.needed', isRequest(chain.id))) as RequestView;
    expect(needed.stage).toMatchObject({ index: 1 });
    await approve(carol, chain.id);
    const activated = (await aliceEvents.next(
      'grant.activated',
      (data) => (data as GrantView).requestId === chain.id,
    )) as GrantView;
    await bobEvents.next('request.updated', isRequest(chain.id, 'approved'));
    await carolEvents.next('request.updated', isRequest(chain.id, 'approved'));

    await relinquish(dave, daveGrant);
    await daveEvents.next('grant.ended', isGrant(daveGrant));
    expect(daveEvents.events.every((event) => concerns(event, 'dave'))).toBe(true);
    expect(summary(daveEvents.events).map(([, type]) => type)).toEqual([
      'grant.activated',
      'request.updated',
      'grant.ended',
    ]);

    expect(aliceEvents.of('approval.needed')).toEqual([]);
    expect(aliceEvents.events.every((event) => concerns(event, 'alice'))).toBe(true);
    for (const stream of [bobEvents, carolEvents]) {
      expect(
        stream.events.some((event) => (event.event ?? '').startsWith('grant.') && concerns(event, 'alice')),
      ).toBe(false);
    }
    expect(bobEvents.of('approval.needed')).toHaveLength(1);
    expect(carolEvents.of('approval.needed')).toHaveLength(1);
    expect(activated.userId).toBe('alice');
  });

  it('removes a stream the client closed, and goes on serving the others without errors', async () => {
    const { api } = running;
    expect(running.service.hub.openStreams).toBe(0);
    const closing = await open(alice);
    const staying = await open(alice);
    expect(running.service.hub.openStreams).toBe(2);

    closing.close();
    await closing.until(() => running.service.hub.openStreams === 1, 'the service to drop the stream');
    expect(closing.isEnded).toBe(true);
    const metrics = await api.get<string>('/metrics');
    expect(metrics.body).toMatch(/^timebox_event_streams 1$/m);

    const grantId = await sandboxGrant(alice, 600);
    await staying.next('grant.activated', isGrant(grantId));
    await relinquish(alice, grantId);
    await staying.next('grant.ended', isGrant(grantId));
    expect(closing.events).toEqual([]);
    expect(running.service.hub.openStreams).toBe(1);
    const health = await api.get<{ ok: boolean }>('/healthz');
    expect(health.status).toBe(200);
    expect(health.body.ok).toBe(true);
  });
});

describe.each(DATABASES)('heartbeats on the live event stream on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let stream: EventStream | null = null;

  beforeEach(async () => {
    running = await startService({ kind, heartbeatMs: 1000 });
    alice = await running.api.login('alice');
  });
  afterEach(async () => {
    stream?.close();
    stream = null;
    await running.stop();
  });

  it('sends a heartbeat comment each time the heartbeat interval passes', async () => {
    const events = await EventStream.open(running.url, alice);
    stream = events;
    const heartbeats = (): string[] => events.comments.filter((comment) => comment.startsWith('heartbeat'));
    expect(events.comments).toEqual(['connected']);

    await running.advance(999);
    // A barrier: once this event is here, a heartbeat written before it would be here too.
    const created = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: '',
    });
    expect(created.status).toBe(201);
    await events.next('grant.activated', (data) => (data as GrantView).requestId === created.body.id);
    expect(heartbeats()).toEqual([]);

    await running.advance(1);
    await events.until(() => heartbeats().length === 1, 'a heartbeat');
    await running.advance(1000);
    await events.until(() => heartbeats().length === 2, 'a second heartbeat');
    expect(events.isEnded).toBe(false);
  });
});
