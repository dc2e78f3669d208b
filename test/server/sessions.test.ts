import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEntryView, RequestView, SessionView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import type { Api } from '../support/http.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const MINUTE = 60_000;
const LAPTOP = 'Timebox-Desktop/0.1.0 (linux; test laptop)';
const PHONE = 'curl/8.5.0 (test phone)';

async function signIn(api: Api, username: string, device: string): Promise<string> {
  const answer = await api.post<{ token: string }>(
    '/v1/auth/login',
    undefined,
    { username, password: 'demo' },
    { 'user-agent': device },
  );
  expect(answer.status).toBe(200);
  return answer.body.token;
}

/** Waits for the stream to be ended by the service (generous for a loaded machine; it takes milliseconds). */
async function endedByService(stream: EventStream): Promise<void> {
  await stream.until(() => stream.isEnded, 'the service to end the stream', 5000);
}

async function sessionsOf(api: Api, token: string, query = ''): Promise<SessionView[]> {
  const answer = await api.get<{ items: SessionView[] }>(`/v1/sessions${query}`, token);
  expect(answer.status).toBe(200);
  return answer.body.items;
}

function sandboxRequest(api: Api, token: string) {
  return api.post<RequestView>('/v1/requests', token, {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds: 600,
  });
}

describe.each(DATABASES)('sessions and the streams that belong to them, on %s', (kind) => {
  let running: RunningService;
  const streams: EventStream[] = [];

  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    for (const stream of streams.splice(0)) stream.close();
    await running.stop();
  });

  async function open(token: string): Promise<EventStream> {
    const stream = await EventStream.open(running.url, token);
    streams.push(stream);
    return stream;
  }

  it('ends the event stream of a session that signs out, and delivers it nothing more', async () => {
    const { api } = running;
    const laptop = await signIn(api, 'alice', LAPTOP);
    const phone = await signIn(api, 'alice', PHONE);
    const onLaptop = await open(laptop);
    const onPhone = await open(phone);

    expect((await api.post('/v1/auth/logout', laptop)).status).toBe(204);
    await endedByService(onLaptop);
    // The person's other session goes on: streams belong to sessions, not to users.
    expect((await sandboxRequest(api, phone)).status).toBe(201);
    await onPhone.next('grant.activated');
    expect(onPhone.isEnded).toBe(false);
    expect(onLaptop.of('grant.activated')).toEqual([]);
    const refused = await api.get<ErrorBody>('/v1/events', laptop);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'token_revoked']);
  });

  it("ends a stream when its session's tokenTtl passes, on the service's clock", async () => {
    const { api, clock } = running;
    const token = await signIn(api, 'alice', LAPTOP);
    const signedInAt = clock.now();
    // Opened half a minute later, so the streams' once-a-minute check of their sessions is not what ends it.
    await running.advance(30_000);
    const stream = await open(token);
    const policy = await demoOrganisation();
    await running.advance(signedInAt + policy.service.tokenTtlSeconds * 1000 - 1000 - clock.now());
    expect(stream.isEnded).toBe(false);
    clock.advance(1000);
    await endedByService(stream);
  });

  it('lists my live sessions with device, address and last use, and lets me end any of them', async () => {
    const { api } = running;
    const laptop = await signIn(api, 'alice', LAPTOP);
    await running.advance(2 * MINUTE);
    const phone = await signIn(api, 'alice', PHONE);
    await signIn(api, 'dave', LAPTOP);
    const mine = await sessionsOf(api, laptop);
    expect(mine.map((session) => [session.device, session.current, session.userId])).toEqual([
      [PHONE, false, 'alice'],
      [LAPTOP, true, 'alice'],
    ]);
    const laptopSession = mine[1];
    if (!laptopSession) throw new Error('two sessions expected');
    expect(laptopSession.address).toBe('127.0.0.1');
    expect(laptopSession.id).toMatch(/^ses_[0-9a-z]{20}$/);
    // The laptop's listing was a use two minutes after sign-in: recorded.
    expect(Date.parse(laptopSession.lastUsedAt)).toBe(running.clock.now());
    expect(Date.parse(laptopSession.lastUsedAt)).toBeGreaterThan(Date.parse(laptopSession.createdAt));

    const onLaptop = await open(laptop);
    const phoneSession = mine[0];
    expect((await api.post(`/v1/sessions/${phoneSession?.id ?? ''}/end`, laptop)).status).toBe(204);
    expect((await api.get<ErrorBody>('/v1/me', phone)).body.error.code).toBe('token_revoked');
    expect((await sessionsOf(api, laptop)).map((session) => session.device)).toEqual([LAPTOP]);
    // Ending the session I use ends its stream too.
    expect((await api.post(`/v1/sessions/${laptopSession.id}/end`, laptop)).status).toBe(204);
    await endedByService(onLaptop);
    expect((await api.get<ErrorBody>('/v1/me', laptop)).status).toBe(401);
  });

  it("refuses to end someone else's session or one that does not exist (404), and changes nothing", async () => {
    const { api } = running;
    const alice = await signIn(api, 'alice', LAPTOP);
    const dave = await signIn(api, 'dave', LAPTOP);
    const daveStream = await open(dave);
    const [daveSession] = await sessionsOf(api, dave);
    for (const id of [daveSession?.id ?? '', 'ses_00000000000000000000', 'nonsense', "x' OR '1'='1"]) {
      const refused = await api.post<ErrorBody>(`/v1/sessions/${encodeURIComponent(id)}/end`, alice);
      expect([refused.status, refused.body.error.code]).toEqual([404, 'session_not_found']);
    }
    expect((await api.get('/v1/me', dave)).status).toBe(200);
    expect(daveStream.isEnded).toBe(false);
    // An ended session is not there to end again.
    expect((await api.post(`/v1/sessions/${daveSession?.id ?? ''}/end`, dave)).status).toBe(204);
    const again = await api.post<ErrorBody>(`/v1/sessions/${daveSession?.id ?? ''}/end`, alice);
    expect(again.status).toBe(404);
  });

  it("lets only administrators list and end other people's sessions, audited", async () => {
    const { api } = running;
    const alice = await signIn(api, 'alice', LAPTOP);
    const bob = await signIn(api, 'bob', PHONE);
    const admin = await signIn(api, 'admin', LAPTOP);
    const bobStream = await open(bob);
    for (const query of ['?scope=all', '?userId=bob']) {
      const refused = await api.get<ErrorBody>(`/v1/sessions${query}`, alice);
      expect([refused.status, refused.body.error.code]).toEqual([403, 'admin_only']);
    }
    for (const query of ['?scope=everyone', '?limit=0', '?limit=201', '?cursor=bogus', '?extra=1']) {
      expect((await api.get(`/v1/sessions${query}`, admin)).status).toBe(400);
    }
    expect((await sessionsOf(api, admin, '?scope=all')).map((session) => session.userId).sort()).toEqual([
      'admin',
      'alice',
      'bob',
    ]);
    const [bobSession] = await sessionsOf(api, admin, '?userId=bob');
    expect((await api.post(`/v1/sessions/${bobSession?.id ?? ''}/end`, admin)).status).toBe(204);
    await endedByService(bobStream);
    expect((await api.get<ErrorBody>('/v1/me', bob)).body.error.code).toBe('token_revoked');

    const audit = await api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=1000', admin);
    const ended = audit.body.items.filter((entry) => entry.action === 'session.ended');
    expect(ended.map((entry) => [entry.actorId, entry.subjectId, entry.data])).toEqual([
      ['admin', 'bob', { sessionId: bobSession?.id, reason: 'ended_by_admin' }],
    ]);
  });

  it('pages through sessions with a cursor', async () => {
    const { api } = running;
    const tokens = [];
    for (let index = 0; index < 5; index++) {
      tokens.push(await signIn(api, 'alice', `device ${index}`));
      await running.advance(1000);
    }
    const first = await api.get<{ items: SessionView[]; next: string | null }>(
      '/v1/sessions?limit=2',
      tokens[0],
    );
    const second = await api.get<{ items: SessionView[]; next: string | null }>(
      `/v1/sessions?limit=3&cursor=${first.body.next ?? ''}`,
      tokens[0],
    );
    expect([...first.body.items, ...second.body.items].map((session) => session.device)).toEqual([
      'device 4',
      'device 3',
      'device 2',
      'device 1',
      'device 0',
    ]);
    expect(second.body.next).toBeNull();
  });
});

describe.each(DATABASES)('the idle timeout on %s', (kind) => {
  const IDLE_MS = 10 * MINUTE;
  let running: RunningService;

  beforeEach(async () => {
    const demo = await demoOrganisation();
    running = await startService({
      kind,
      policy: { ...demo, service: { ...demo.service, idleTimeoutSeconds: IDLE_MS / 1000 } },
    });
  });
  afterEach(async () => {
    await running.stop();
  });

  it('signs out a session unused for idleTimeout, with token_idle; calls before it keep it alive', async () => {
    const { api } = running;
    const used = await signIn(api, 'alice', LAPTOP);
    const unused = await signIn(api, 'dave', LAPTOP);
    for (let step = 0; step < 3; step++) {
      await running.advance(IDLE_MS - MINUTE);
      expect((await api.get('/v1/me', used)).status).toBe(200);
    }
    const refused = await api.get<ErrorBody>('/v1/me', unused);
    expect([refused.status, refused.body.error.code]).toEqual([401, 'token_idle']);
    expect(refused.body.error.message).toMatch(/10m without using Timebox/);
    // Nor is it listed any more.
    const admin = await signIn(api, 'admin', LAPTOP);
    expect((await sessionsOf(api, admin, '?scope=all')).map((session) => session.userId).sort()).toEqual([
      'admin',
      'alice',
    ]);
  });

  it('counts an open event stream as use: the desktop in use is never signed out for idling', async () => {
    const { api } = running;
    const token = await signIn(api, 'alice', LAPTOP);
    const stream = await EventStream.open(running.url, token);
    try {
      // Three idle timeouts with nothing but the open stream, a minute at a time as the stream's timers run.
      for (let minute = 0; minute < 30; minute++) await running.advance(MINUTE);
      expect(stream.isEnded).toBe(false);
      expect((await api.get('/v1/me', token)).status).toBe(200);
    } finally {
      stream.close();
    }
  });
});
