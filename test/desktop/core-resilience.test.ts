import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLOCK_CHECK_EVERY_MS } from '../../main/core/clock-watch.js';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import { KeychainUnavailableError } from '../../keychain/keychain.js';
import { grantView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startDesktop } from '../support/desktop.js';
import { keychainAvailable, missingKeychain, testKeychain } from '../support/keychain.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, type RunningService } from '../support/service.js';
import { desktopOf, sandboxGrant, stopEveryone, untilLive, type Person } from './harness.js';
import { until } from './helpers.js';

if (!keychainAvailable)
  console.warn('core-resilience.test.ts: the keychain suites do not run here (no Secret Service).');

const pathOf = (input: Parameters<typeof fetch>[0]) =>
  new URL(input instanceof Request ? input.url : String(input)).pathname;

/** One Server-Sent Event, as the service would frame it. */
const sse = (type: string, data: string) => `event: ${type}\ndata: ${data}\n\n`;

const DROPPED = 'dropped a malformed event from the stream';

describe.runIf(keychainAvailable).each(DATABASES)('the core against bad input on %s', (kind) => {
  let running: RunningService;
  const people: Person[] = [];
  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    await stopEveryone(people, running);
  });

  it('drops malformed stream events with a warning, applies none of them, and goes on', async () => {
    // Whatever `inject` holds goes out first on each new connection of the stream, then the real events.
    let inject = '';
    const injecting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (pathOf(input) !== '/v1/events' || !response.body) return response;
      const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
      const prefix = new TextEncoder().encode(inject);
      void (async () => {
        const writer = writable.getWriter();
        await writer.write(prefix);
        writer.releaseLock();
        await response.body?.pipeTo(writable);
      })().catch(() => undefined);
      return new Response(readable, { status: response.status, headers: response.headers });
    };
    const alice = await desktopOf(running, { username: 'alice', fetch: injecting });
    people.push(alice);
    const grant = await sandboxGrant(alice, 600);
    const view = grantView.parse(grant); // as the wire carries it
    inject = [
      sse('grant.ended', JSON.stringify({ ...view, status: 'gone', endReason: 'revoked' })),
      sse('grant.ended', 'not json {'),
      sse('grant.activated', JSON.stringify({ id: 42 })),
      sse('approval.needed', JSON.stringify({ waitingFor: 'alice' })),
      sse('request.updated', 'null'),
    ].join('');
    alice.core.systemResumed(); // a new connection, which now starts with the bad events
    await until(() => alice.warnings.filter((message) => message === DROPPED).length === 5, 'five drops', {
      nudge: () => running.advance(250),
    });
    await untilLive(running, alice);
    expect(alice.grant(grant.id)).toMatchObject({ status: 'active', credential: 'stored' });
    expect(await alice.stored(grant.id)).not.toBeNull();
    expect(alice.core.store.state.approvals).toEqual([]);
    await running.advance(100);
    expect(alice.shown.filter((notice) => notice.kind === 'ended')).toEqual([]);

    // The stream still carries the real news.
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'after the noise',
    });
    const bob = await running.api.login('bob');
    const approved = await running.api.post<{ grantId: string }>(
      `/v1/requests/${request.id}/approve`,
      bob,
      {},
    );
    await until(() => alice.grant(approved.body.grantId)?.credential === 'stored', 'the approved grant');
    await until(
      () => alice.of('activated').some((notice) => notice.key === `activated:${approved.body.grantId}`),
      'its notice',
      {
        nudge: () => running.advance(100),
      },
    );
  });

  it('a credential that cannot be wiped: the notice says so, and the next sync removes it without a second notice', async () => {
    const real = testKeychain();
    let deletesFail = false;
    const stubborn = {
      ...real,
      delete: (account: string) =>
        deletesFail && account.startsWith('grant:')
          ? Promise.reject(new KeychainUnavailableError('the login keyring is locked'))
          : real.delete(account),
    };
    const alice = await desktopOf(running, { username: 'alice', keychain: stubborn });
    people.push(alice);
    const grant = await sandboxGrant(alice, 600);
    deletesFail = true;
    await alice.core.relinquishGrant({ grantId: grant.id });
    await until(() => alice.shown.some((notice) => notice.key === `ended:${grant.id}`), 'the ended notice', {
      nudge: () => running.advance(100),
    });
    const [notice] = alice.shown.filter((candidate) => candidate.key === `ended:${grant.id}`);
    expect(notice?.kind).toBe('credential-kept');
    expect(notice?.body).toMatch(
      /^You relinquished it\. Its credential could not be removed from your keychain: No system keychain is available \(the login keyring is locked\)\..* Timebox removes it as soon as the keychain lets it \(it checks every few seconds, and at every start\)\.$/,
    );
    expect(notice?.body).not.toContain('was removed');
    expect(await real.get(grantAccount(grant.id))).not.toBeNull();
    expect(alice.settings.current.vault.map((entry) => entry.grantId)).toEqual([grant.id]);

    deletesFail = false;
    await alice.core.refresh();
    expect(await real.get(grantAccount(grant.id))).toBeNull();
    expect(alice.settings.current.vault).toEqual([]);
    expect(alice.grant(grant.id)?.credential).toBe('wiped');
    await running.advance(100);
    expect(alice.shown.filter((candidate) => candidate.key === `ended:${grant.id}`)).toHaveLength(1);
  });
});

describe.runIf(keychainAvailable).each(DATABASES)('the clock watch in the core on %s', (kind) => {
  let running: RunningService;
  let alice: Person | null = null;
  beforeEach(async () => {
    const start = Date.parse('2030-01-07T09:00:00.000Z');
    running = await startService({ kind, clock: new ManualClock(start + 90_000) });
  });
  afterEach(async () => {
    await alice?.stop();
    await alice?.keychain.wipe();
    alice = null;
    await running.stop();
  });

  it('notices the desktop clock set by hand with no stream at all, and measures the service again', async () => {
    const desktopClock = new ManualClock(Date.parse('2030-01-07T09:00:00.000Z'));
    const both = async (ms: number) => {
      desktopClock.advance(ms);
      await running.advance(ms);
    };
    // The event stream never answers: nothing arrives on it, so it can show no life.
    const paths: string[] = [];
    const streamless: typeof fetch = (input, init) => {
      paths.push(pathOf(input));
      if (pathOf(input) !== '/v1/events') return fetch(input, init);
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => {
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    };
    alice = await desktopOf(
      { url: running.url, clock: desktopClock },
      { clock: desktopClock, fetch: streamless },
    );
    await alice.core.signIn({ username: 'alice', password: 'demo' });
    const request = await alice.core.requestAccess({
      idempotencyKey: randomUUID(),
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: '',
    });
    const grantId = request.grantId ?? '';
    await until(() => alice?.grant(grantId)?.credential === 'stored', 'the credential');
    expect(alice.core.store.state.clockOffsetMs).toBe(90_000);
    expect(alice.core.store.state.connection.status).toBe('connecting');

    // Time passing as it should: the watch looks, and asks nothing of the service.
    const asked = paths.length;
    await both(2 * CLOCK_CHECK_EVERY_MS);
    expect(paths.slice(asked)).toEqual([]);

    // An hour forward by hand. Within one look the watch notices, and the service's clock is measured again.
    desktopClock.jumpWall(3600_000);
    await both(CLOCK_CHECK_EVERY_MS);
    await until(
      () => Math.abs((alice?.core.store.state.clockOffsetMs ?? 0) - (90_000 - 3600_000)) <= 500,
      'the new offset',
    );
    expect(paths.slice(asked)).toContain('/v1/resources');
    expect(alice.grant(grantId)).toMatchObject({ status: 'active', credential: 'stored' });
    expect(await alice.stored(grantId)).not.toBeNull();
  });
});

describe.each(DATABASES)('what the core says without a keychain on %s', (kind) => {
  let running: RunningService;
  beforeEach(async () => {
    running = await startService({ kind });
  });
  afterEach(async () => {
    await running.stop();
  });

  it('an activation says the credential is not in the keychain, and why; its end claims no removal', async () => {
    const desktop = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain: missingKeychain(),
    });
    try {
      await desktop.core.signIn({ username: 'alice', password: 'demo' });
      await untilLive(running, desktop);
      const request = await desktop.core.requestAccess({
        idempotencyKey: randomUUID(),
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 600,
        reason: '',
      });
      const grantId = request.grantId ?? '';
      const noticeOf = (key: string) => desktop.shown.find((notice) => notice.key === key);
      await until(() => noticeOf(`activated:${grantId}`) !== undefined, 'the activation notice', {
        nudge: () => running.advance(100),
      });
      expect(noticeOf(`activated:${grantId}`)?.body).toMatch(
        /^Until .+\. Its credential is not in your keychain: No system keychain is available \(Cannot autolaunch D-Bus without X11 \$DISPLAY\)\./,
      );
      expect(noticeOf(`activated:${grantId}`)?.body).not.toContain('is in your keychain');

      await desktop.core.relinquishGrant({ grantId });
      await until(() => noticeOf(`ended:${grantId}`) !== undefined, 'the ended notice', {
        nudge: () => running.advance(100),
      });
      expect(noticeOf(`ended:${grantId}`)).toMatchObject({ kind: 'ended', body: 'You relinquished it.' });
    } finally {
      await desktop.stop();
    }
  });
});
