import { randomUUID } from 'node:crypto';
import { createService } from '../../server/index.js';
import { grantAccount, SESSION_ACCOUNT } from '../../main/core/keychain-accounts.js';
import type { Notice, NoticeKind } from '../../main/core/notifications.js';
import type { StoredSettings } from '../../main/core/settings.js';
import type { KeychainUnlocker } from '../../main/core/keychain-unlock.js';
import type { GrantState } from '../../preload/contract.js';
import type { DatabaseKind, TestDatabase } from '../support/databases.js';
import { startDesktop, type TestDesktop } from '../support/desktop.js';
import { Api } from '../support/http.js';
import { testKeychain } from '../support/keychain.js';
import type { ManualClock } from '../support/manual-clock.js';
import { demoOrganisation, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';
import { until } from './helpers.js';

/** The pieces the core suites share: desktops signed in to a running service, on its clock. */

export type TestKeychain = ReturnType<typeof testKeychain>;

export interface Person extends TestDesktop {
  readonly keychain: TestKeychain;
  readonly username: string;
  /** The notices of one kind the desktop showed. */
  of(kind: NoticeKind): Notice[];
  grant(grantId: string): GrantState | undefined;
  /** The credential in the keychain for a grant, parsed; null when there is none. */
  stored(grantId: string): Promise<{ secret: { token?: string }; expiresAt: string } | null>;
}

export async function desktopOf(
  running: { readonly url: string; readonly clock: ManualClock },
  options: {
    readonly username?: string;
    readonly keychain?: TestKeychain;
    readonly settings?: Partial<StoredSettings>;
    readonly fetch?: typeof fetch;
    readonly pollEveryMs?: number;
    readonly clock?: ManualClock;
    readonly unlocker?: KeychainUnlocker;
  } = {},
): Promise<Person> {
  const keychain = options.keychain ?? testKeychain();
  const desktop = await startDesktop({
    serviceUrl: running.url,
    clock: options.clock ?? running.clock,
    keychain,
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.pollEveryMs === undefined ? {} : { pollEveryMs: options.pollEveryMs }),
    ...(options.unlocker ? { unlocker: options.unlocker } : {}),
  });
  const person: Person = {
    ...desktop,
    keychain,
    username: options.username ?? '',
    of: (kind) => desktop.shown.filter((notice) => notice.kind === kind),
    grant: (grantId) => desktop.core.store.state.grants.find((grant) => grant.id === grantId),
    async stored(grantId) {
      const text = await keychain.get(grantAccount(grantId));
      return text === null ? null : (JSON.parse(text) as { secret: { token?: string }; expiresAt: string });
    },
  };
  if (options.username) {
    await desktop.core.signIn({ username: options.username, password: 'demo' });
    await untilLive(running, person);
  }
  return person;
}

/** After a test: each desktop it started stopped and its keychain entries wiped, then the service stopped. */
export async function stopEveryone(people: Person[], running: Pick<RunningService, 'stop'>): Promise<void> {
  for (const person of people.splice(0)) {
    await person.stop();
    await person.keychain.wipe();
  }
  await running.stop();
}

/** A grant of `seconds` that needs no approval (the sandbox by default), once its credential is stored. */
export async function sandboxGrant(
  person: Person,
  seconds: number,
  resourceId = 'sandbox',
  role = 'operator',
): Promise<GrantState> {
  const request = await person.core.requestAccess({
    idempotencyKey: randomUUID(),
    resourceId,
    role,
    durationSeconds: seconds,
    reason: 'test',
  });
  if (request.status !== 'approved' || !request.grantId)
    throw new Error(`expected a grant at once, got a ${request.status} request`);
  const grantId = request.grantId;
  await until(() => person.grant(grantId)?.credential === 'stored', `the credential of ${grantId}`);
  const grant = person.grant(grantId);
  if (!grant) throw new Error('no grant');
  return grant;
}

/** The session token a desktop keeps in its keychain ('' when there is none). */
export async function sessionToken(person: Person): Promise<string> {
  const saved = await person.keychain.get(SESSION_ACCOUNT);
  return saved === null ? '' : ((JSON.parse(saved) as { token?: string }).token ?? '');
}

/**
 * Waits until each desktop's event stream is live and its first resync has loaded the catalog. Moves the
 * clock a second at a time meanwhile: reconnect backoff waits on the ManualClock.
 */
export async function untilLive(
  running: { readonly clock: ManualClock; advance?: (ms: number) => Promise<void> },
  ...people: TestDesktop[]
): Promise<void> {
  await until(
    () =>
      people.every(
        (person) =>
          person.core.store.state.connection.status === 'live' && person.core.store.state.catalog.length > 0,
      ),
    'the live connection',
    {
      nudge: async () => {
        if (running.advance) await running.advance(1000);
        else running.clock.advance(1000);
      },
    },
  );
}

/** The service's answer, for comparing with what a desktop shows. */
export async function serviceGrant(running: { readonly api: Api }, username: string, grantId: string) {
  const token = await running.api.login(username);
  return (await running.api.get<{ expiresAt: string; status: string }>(`/v1/grants/${grantId}`, token)).body;
}

export interface RestartableService extends RunningService {
  readonly port: number;
}

/**
 * The real service on a given port (0: any) over a given database, for suites that stop it and start it
 * again on the same data and address. The caller owns the database and the PGlite folder.
 */
export async function startServiceAt(options: {
  readonly kind: DatabaseKind;
  readonly clock: ManualClock;
  readonly database: TestDatabase;
  readonly dataDir: string | null;
  readonly port: number;
}): Promise<RestartableService> {
  const service = await createService({
    policy: await demoOrganisation(),
    databaseUrl: options.database.url,
    dataDir: options.kind === 'pglite' ? options.dataDir : null,
    clock: options.clock,
    logger: false,
    heartbeatMs: 15_000,
    passwordCost: TEST_PASSWORD_COST,
  });
  const url = await service.listen(options.port, '127.0.0.1');
  return {
    service,
    api: new Api(url),
    url,
    port: Number(new URL(url).port),
    clock: options.clock,
    async advance(ms) {
      options.clock.advance(ms);
      await service.scheduler.settled();
    },
    stop: () => service.close(),
  };
}

/**
 * The real fetch, with a copy of every event-stream byte the desktop receives kept aside, so a test can
 * tell that the desktop was sent an event (not just that the service wrote one).
 */
export function tappedFetch(): { readonly fetch: typeof fetch; readonly received: () => string } {
  const chunks: string[] = [];
  const tapped: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (!url.endsWith('/v1/events') || !response.body) return response;
    const [forDesktop, forTest] = response.body.tee();
    void (async () => {
      const reader = forTest.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        chunks.push(value);
      }
    })().catch(() => undefined);
    return new Response(forDesktop, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: tapped, received: () => chunks.join('') };
}
