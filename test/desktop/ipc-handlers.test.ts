import { describe, expect, it } from 'vitest';
import { UserError } from '../../api/errors.js';
import {
  CLIPBOARD_CLEAR_MS,
  createHandlers,
  dispatch,
  type Clipboard,
} from '../../main/core/ipc-handlers.js';
import type { TimeboxCore } from '../../main/core/timebox.js';
import type { StoredCredential } from '../../main/core/vault.js';
import { INVOKE_METHODS, type InvokeMethod } from '../../preload/channels.js';
import { ManualClock } from '../support/manual-clock.js';
import { appState } from './fixtures.js';
import { recordingLog } from './helpers.js';

const GRANT_ID = 'grt_0123456789abcdefghjk';
const REQUEST_ID = 'req_0123456789abcdefghjk';
const KEY = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';
/** Idempotency keys the contract refuses: it takes a UUID and nothing else. */
const BAD_KEYS: unknown[] = [
  '',
  'retry-1',
  `${KEY}x`,
  ` ${KEY}`,
  KEY.replaceAll('-', ''),
  '1b4e28ba-2fa1-41d2-883f-0016d3cca42g',
  42,
  null,
  ['1b4e28ba-2fa1-41d2-883f-0016d3cca427'],
];

/**
 * A stand-in for the core that records every property anyone reads from it. `answers` are the methods
 * a test lets the handlers call; anything else fails the test.
 */
function stubCore(
  answers: Record<string, (...args: unknown[]) => unknown> = {},
  serviceUrl: string | null = null,
) {
  const touched: string[] = [];
  const calls: { method: string; args: unknown[] }[] = [];
  const target = { store: { state: appState({ service: { url: serviceUrl, embedded: false } }) } };
  const core = new Proxy(target, {
    get(object, property) {
      const name = String(property);
      if (name === 'then') return undefined; // not a promise
      touched.push(name);
      if (name === 'store') return object.store;
      const answer = answers[name];
      if (!answer) throw new Error(`the handlers called core.${name}, which this test did not expect`);
      return (...args: unknown[]) => {
        calls.push({ method: name, args });
        return answer(...args);
      };
    },
  }) as unknown as TimeboxCore;
  return { core, touched, calls };
}

function fakeClipboard(): Clipboard & { text: string } {
  const clipboard = {
    text: '',
    readText: () => Promise.resolve(clipboard.text),
    writeText: (text: string) => {
      clipboard.text = text;
      return Promise.resolve();
    },
  };
  return clipboard;
}

/** The clipboard is asynchronous: let a clear that a timer started finish. */
const clipboardSettled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup(core: TimeboxCore) {
  const clock = new ManualClock();
  const clipboard = fakeClipboard();
  const log = recordingLog();
  const opened: string[] = [];
  let readyCalls = 0;
  const handlers = createHandlers({
    core,
    clipboard,
    clock,
    log,
    openExternal: async (url) => {
      opened.push(url);
    },
    externalHosts: ['docs.timebox.example'],
    rendererReady: () => {
      readyCalls += 1;
    },
  });
  return {
    clock,
    clipboard,
    log,
    opened,
    readyCalls: () => readyCalls,
    call: (method: string, args: unknown) => dispatch(handlers, method, args, log, 'test window'),
  };
}

const credential = (secret: Record<string, unknown>): StoredCredential => ({
  grantId: GRANT_ID,
  kind: 'token',
  expiresAt: '2030-01-07T10:00:00.000Z',
  secret,
});

describe('IPC dispatch', () => {
  it.each([
    'deleteEverything',
    '',
    '__proto__',
    'constructor',
    'toString',
    'signin',
    'timebox:invoke:signIn',
  ])('refuses the unknown method %j and logs it, touching nothing', async (method) => {
    const { core, touched } = stubCore();
    const { call, log } = setup(core);
    expect(await call(method, {})).toEqual({
      ok: false,
      error: { code: 'unknown_method', message: `Timebox has no method "${method}".` },
    });
    expect(log.lines).toEqual([
      { level: 'warn', details: { method }, message: 'refused a call to an unknown IPC method' },
    ]);
    expect(touched).toEqual([]);
  });

  const longText = (length: number) => 'x'.repeat(length);
  const wrongShapes: Record<InvokeMethod, unknown[]> = {
    rendererReady: [{ extra: 1 }, 'now', [], 42],
    authMethods: [{ serviceUrl: 'https://evil.example' }, 'all'],
    signInWithProvider: [{}, { provider: '' }, { provider: 'Acme SSO' }, { provider: 'acme', redirect: 'x' }],
    signIn: [
      {},
      { username: '', password: 'demo' },
      { username: 'alice', password: '' },
      { username: 'alice', password: 'demo', otp: '12345' },
      { username: 'alice', password: 'demo', otp: 123456 },
      { username: 'alice', password: 'demo', serviceUrl: 'ftp://timebox.example.com' },
      { username: 'alice', password: 'demo', serviceUrl: 'javascript:alert(1)' },
      { username: 'alice', password: 'demo', admin: true },
      { username: longText(65), password: 'demo' },
      { username: 1, password: 'demo' },
    ],
    signOut: [{ everywhere: true }, 'yes'],
    refresh: [{ full: true }, [1]],
    previewRequest: [
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600 },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 0, reason: '' },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 1.5, reason: '' },
      { resourceId: 'prod-db', role: '../admin', durationSeconds: 3600, reason: '' },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: longText(1001) },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: '', idempotencyKey: KEY },
    ],
    requestAccess: [
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, idempotencyKey: KEY },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 0, reason: '', idempotencyKey: KEY },
      { resourceId: 'prod-db', role: 'read', durationSeconds: -60, reason: '', idempotencyKey: KEY },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 1.5, reason: '', idempotencyKey: KEY },
      { resourceId: 'prod-db', role: 'read', durationSeconds: '3600', reason: '', idempotencyKey: KEY },
      { resourceId: 'prod-db', role: 'read', durationSeconds: 367 * 86_400, reason: '', idempotencyKey: KEY },
      { resourceId: 'Prod DB', role: 'read', durationSeconds: 3600, reason: '', idempotencyKey: KEY },
      { resourceId: 'prod-db', role: '../admin', durationSeconds: 3600, reason: '', idempotencyKey: KEY },
      {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: longText(1001),
        idempotencyKey: KEY,
      },
      {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: '',
        ticket: longText(201),
        idempotencyKey: KEY,
      },
      {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: '',
        userId: 'bob',
        idempotencyKey: KEY,
      },
      // The idempotency key: missing, or anything but a UUID.
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: '' },
      ...BAD_KEYS.map((idempotencyKey) => ({
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: '',
        idempotencyKey,
      })),
    ],
    approve: [
      {},
      { requestId: 'req_123' },
      { requestId: GRANT_ID },
      { requestId: REQUEST_ID.toUpperCase() },
      { requestId: REQUEST_ID, comment: longText(1001) },
      { requestId: REQUEST_ID, as: 'admin' },
    ],
    deny: [
      { requestId: REQUEST_ID },
      { requestId: REQUEST_ID, comment: '' },
      { requestId: 'x', comment: 'no' },
    ],
    cancelRequest: [{}, { requestId: 42 }, { requestId: REQUEST_ID, reason: 'x' }],
    extendGrant: [
      { grantId: REQUEST_ID, durationSeconds: 600, reason: '', idempotencyKey: KEY },
      { grantId: GRANT_ID, durationSeconds: 0, reason: '', idempotencyKey: KEY },
      { grantId: GRANT_ID, durationSeconds: 600, idempotencyKey: KEY },
      { grantId: GRANT_ID, durationSeconds: 600, reason: '' },
      ...BAD_KEYS.map((idempotencyKey) => ({
        grantId: GRANT_ID,
        durationSeconds: 600,
        reason: '',
        idempotencyKey,
      })),
    ],
    relinquishGrant: [{}, { grantId: 'grt_x' }, { grantId: [GRANT_ID] }],
    copyCredential: [{}, { grantId: GRANT_ID, part: 'secret' }, { grantId: 'grt_x' }],
    copyConnectionUri: [{}, { grantId: REQUEST_ID }, { grantId: GRANT_ID, part: 'uri' }],
    openPsql: [
      {},
      { grantId: 'analytics-db' },
      { grantId: GRANT_ID, command: 'psql -c "DROP TABLE orders"' },
      { grantId: GRANT_ID, env: { PGPASSWORD: 'guess' } },
    ],
    revealCredential: [{}, { grantId: GRANT_ID, log: false }, { grantId: null }],
    seatPoolUtilization: [
      {},
      { period: '1y' },
      { period: '7D' },
      { period: 7 },
      { period: '7d', from: '2030-01-01T00:00:00.000Z' },
    ],
    insights: [{}, { period: '1y' }, { period: 30 }, { period: '30d', pool: 'design-suite/seat' }],
    updateSettings: [
      { reminderLeadsSeconds: [5] },
      { reminderLeadsSeconds: [60, 60, 60, 60, 60, 60] },
      { reminderLeadsSeconds: [90_000] },
      { reminderLeadsSeconds: 600 },
      { doNotDisturb: 'yes' },
      { launchAtLogin: 1 },
      { serviceUrl: 'file:///etc/passwd' },
      { serviceUrl: 'not a url' },
      { vault: [] },
    ],
    unlockKeychain: [{ collection: 'login' }, { password: 'hunter2' }, 'login', []],
    openExternal: [
      {},
      { url: 'http://docs.timebox.example/' },
      { url: 'javascript:alert(1)' },
      { url: 'file:///etc/passwd' },
      { url: 'https://docs.timebox.example/', target: '_blank' },
    ],
  };

  it('has a table of wrong shapes for every method', () => {
    expect(Object.keys(wrongShapes).sort()).toEqual([...INVOKE_METHODS].sort());
  });

  it.each(
    INVOKE_METHODS.flatMap((method) =>
      wrongShapes[method].map((args) => [method, JSON.stringify(args), args] as const),
    ),
  )('refuses %s(%s) before the core is touched, and logs it', async (method, _label, args) => {
    const { core, touched } = stubCore();
    const { call, log, opened, clipboard, readyCalls } = setup(core);
    const result = await call(method, args);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('invalid_arguments');
      expect(result.error.message).toMatch(new RegExp(`^Invalid ${method} call`));
    }
    expect(touched).toEqual([]);
    expect(opened).toEqual([]);
    expect(clipboard.text).toBe('');
    expect(readyCalls()).toBe(0);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({
      level: 'warn',
      message: 'refused an IPC call with invalid arguments',
    });
    expect(log.lines[0]?.details).toMatchObject({ method });
  });

  it('passes parsed arguments through, and an error from the core comes back as a value', async () => {
    const { core, calls } = stubCore({
      approve: () => Promise.reject(new UserError('not_yours', 'You cannot approve your own request.')),
      refresh: () => Promise.reject(new Error('boom: a stack trace the window must not see')),
      cancelRequest: (args) => Promise.resolve(args),
      requestAccess: (args) => Promise.resolve(args),
    });
    const { call } = setup(core);
    expect(await call('approve', { requestId: REQUEST_ID })).toEqual({
      ok: false,
      error: { code: 'not_yours', message: 'You cannot approve your own request.' },
    });
    const internal = await call('refresh', {});
    expect(internal).toMatchObject({ ok: false, error: { code: 'internal_error' } });
    expect(JSON.stringify(internal)).not.toContain('boom');
    expect(await call('cancelRequest', { requestId: REQUEST_ID })).toEqual({
      ok: true,
      value: { requestId: REQUEST_ID },
    });
    const asked = {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: '',
      idempotencyKey: KEY,
    };
    expect(await call('requestAccess', asked)).toEqual({ ok: true, value: asked });
    expect(calls.map((entry) => entry.method)).toEqual([
      'approve',
      'refresh',
      'cancelRequest',
      'requestAccess',
    ]);
  });
});

describe('unlockKeychain', () => {
  it('asks the core to unlock and answers what it came to', async () => {
    const result = { outcome: 'dismissed', message: 'The unlock prompt was dismissed.' };
    const { core, calls } = stubCore({ unlockKeychain: () => Promise.resolve(result) });
    const { call } = setup(core);
    expect(await call('unlockKeychain', {})).toEqual({ ok: true, value: result });
    expect(calls).toEqual([{ method: 'unlockKeychain', args: [] }]);
  });
});

describe('the idempotency key', () => {
  it('is refused with a sentence that names it, before the core is touched', async () => {
    const { core, touched } = stubCore();
    const { call } = setup(core);
    const result = await call('requestAccess', {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: '',
      idempotencyKey: 'retry-1',
    });
    expect(result).toEqual({
      ok: false,
      error: {
        code: 'invalid_arguments',
        message: 'Invalid requestAccess call: idempotencyKey expected a UUID made once per dialog.',
      },
    });
    expect(touched).toEqual([]);
  });
});

describe('copyCredential', () => {
  it('writes the token and clears the clipboard after 30 s if it still holds it', async () => {
    const { core } = stubCore({ credential: () => Promise.resolve(credential({ token: 'jwt-SECRET' })) });
    const { call, clipboard, clock } = setup(core);
    const result = await call('copyCredential', { grantId: GRANT_ID });
    expect(result).toEqual({ ok: true, value: { clearsAt: clock.now() + CLIPBOARD_CLEAR_MS } });
    expect(clipboard.text).toBe('jwt-SECRET');
    clock.advance(CLIPBOARD_CLEAR_MS - 1);
    expect(clipboard.text).toBe('jwt-SECRET');
    clock.advance(1);
    await clipboardSettled();
    expect(clipboard.text).toBe('');
    expect(clock.pendingTimers).toBe(0);
  });

  it('leaves the clipboard alone when the user copied something else since', async () => {
    const { core } = stubCore({ credential: () => Promise.resolve(credential({ token: 'jwt-SECRET' })) });
    const { call, clipboard, clock } = setup(core);
    await call('copyCredential', { grantId: GRANT_ID });
    await clipboard.writeText('my own notes');
    clock.advance(CLIPBOARD_CLEAR_MS);
    await clipboardSettled();
    expect(clipboard.text).toBe('my own notes');
  });

  it('a second copy (here the connection URI) restarts the 30 s, with one timer', async () => {
    const { core } = stubCore({
      credential: () => Promise.resolve(credential({ password: 'p' })),
      connectionUri: () => Promise.resolve('postgres://u:p@db/orders'),
    });
    const { call, clipboard, clock } = setup(core);
    await call('copyCredential', { grantId: GRANT_ID });
    expect(clipboard.text).toBe('p');
    clock.advance(20_000);
    await call('copyConnectionUri', { grantId: GRANT_ID });
    expect(clipboard.text).toBe('postgres://u:p@db/orders');
    expect(clock.pendingTimers).toBe(1);
    clock.advance(20_000);
    await clipboardSettled();
    expect(clipboard.text).toBe('postgres://u:p@db/orders');
    clock.advance(10_000);
    await clipboardSettled();
    expect(clipboard.text).toBe('');
  });

  it('says so when there is nothing to copy, and writes nothing', async () => {
    const { core } = stubCore({ credential: () => Promise.resolve(credential({ certificate: 42 })) });
    const { call, clipboard, clock } = setup(core);
    expect(await call('copyCredential', { grantId: GRANT_ID })).toEqual({
      ok: false,
      error: { code: 'nothing_to_copy', message: 'This credential has nothing to copy.' },
    });
    expect(clipboard.text).toBe('');
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes the core’s refusal through (an ended grant), writing nothing', async () => {
    const { core } = stubCore({
      credential: () =>
        Promise.reject(new UserError('grant_ended', 'This grant has ended; its credential is gone.')),
    });
    const { call, clipboard } = setup(core);
    expect(await call('copyCredential', { grantId: GRANT_ID })).toMatchObject({
      ok: false,
      error: { code: 'grant_ended' },
    });
    expect(clipboard.text).toBe('');
  });
});

describe('copyConnectionUri, openPsql and seatPoolUtilization', () => {
  it('pass the core’s refusals through as sentences, writing and opening nothing', async () => {
    const refusal = new UserError(
      'not_a_database_login',
      'This grant’s credential is not a PostgreSQL login.',
    );
    const { core, calls } = stubCore({
      connectionUri: () => Promise.reject(refusal),
      openPsql: () => Promise.reject(new UserError('psql_not_found', 'psql is not installed.')),
      seatPoolUtilization: () =>
        Promise.reject(new UserError('admin_only', 'Only administrators may read seat-pool utilisation.')),
    });
    const { call, clipboard, clock } = setup(core);
    expect(await call('copyConnectionUri', { grantId: GRANT_ID })).toEqual({
      ok: false,
      error: { code: 'not_a_database_login', message: refusal.message },
    });
    expect(await call('openPsql', { grantId: GRANT_ID })).toEqual({
      ok: false,
      error: { code: 'psql_not_found', message: 'psql is not installed.' },
    });
    expect(await call('seatPoolUtilization', { period: '24h' })).toEqual({
      ok: false,
      error: { code: 'admin_only', message: 'Only administrators may read seat-pool utilisation.' },
    });
    expect(clipboard.text).toBe('');
    expect(clock.pendingTimers).toBe(0);
    expect(calls).toEqual([
      { method: 'connectionUri', args: [GRANT_ID] },
      { method: 'openPsql', args: [GRANT_ID] },
      { method: 'seatPoolUtilization', args: ['24h'] },
    ]);
  });

  it('openPsql answers null once the terminal is open; the report comes back as the core gave it', async () => {
    const report = { from: '2030-01-06T09:00:00.000Z', to: '2030-01-07T09:00:00.000Z', items: [] };
    const { core } = stubCore({
      openPsql: () => Promise.resolve(),
      seatPoolUtilization: () => Promise.resolve(report),
    });
    const { call } = setup(core);
    expect(await call('openPsql', { grantId: GRANT_ID })).toEqual({ ok: true, value: null });
    expect(await call('seatPoolUtilization', { period: '7d' })).toEqual({ ok: true, value: report });
  });

  it('insights passes the period to the core and its answer or refusal back', async () => {
    const report = {
      from: '2029-12-08T09:00:00.000Z',
      to: '2030-01-07T09:00:00.000Z',
      roles: [],
      recommendations: [],
      seats: [],
    };
    const answered = stubCore({ insights: () => Promise.resolve(report) });
    expect(await setup(answered.core).call('insights', { period: '30d' })).toEqual({
      ok: true,
      value: report,
    });
    expect(answered.calls).toEqual([{ method: 'insights', args: ['30d'] }]);
    const refused = stubCore({
      insights: () => Promise.reject(new UserError('admin_only', 'Only administrators may read insights.')),
    });
    expect(await setup(refused.core).call('insights', { period: '24h' })).toEqual({
      ok: false,
      error: { code: 'admin_only', message: 'Only administrators may read insights.' },
    });
  });
});

describe('openExternal', () => {
  it.each([
    ['an allowlisted host', 'https://docs.timebox.example/guide#extend', null],
    ['the service’s own https host', 'https://timebox.corp.example/help', 'https://timebox.corp.example'],
  ])('opens %s', async (_name, url, serviceUrl) => {
    const { core } = stubCore({}, serviceUrl);
    const { call, opened } = setup(core);
    expect(await call('openExternal', { url })).toEqual({ ok: true, value: null });
    expect(opened).toEqual([url]);
  });

  it.each([
    ['an unknown host', 'https://evil.example/', null, 'evil.example'],
    [
      'a look-alike subdomain',
      'https://docs.timebox.example.evil.example/',
      null,
      'docs.timebox.example.evil.example',
    ],
    ['credentials that hide the host', 'https://docs.timebox.example@evil.example/', null, 'evil.example'],
    [
      'another port on an allowed host',
      'https://docs.timebox.example:8443/',
      null,
      'docs.timebox.example:8443',
    ],
    [
      'the service’s host when the service is plain http',
      'https://timebox.lan/',
      'http://timebox.lan',
      'timebox.lan',
    ],
  ])('refuses %s', async (_name, url, serviceUrl, host) => {
    const { core } = stubCore({}, serviceUrl);
    const { call, opened } = setup(core);
    expect(await call('openExternal', { url })).toEqual({
      ok: false,
      error: { code: 'link_not_allowed', message: `Timebox opens links only to known sites, not ${host}.` },
    });
    expect(opened).toEqual([]);
  });
});
