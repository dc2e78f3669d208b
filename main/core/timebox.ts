import { randomUUID } from 'node:crypto';
import type { GrantView, RequestView } from '../../server/http/schemas.js';
import type {
  AppState,
  ExtendOutcome,
  GrantState,
  InvokeArgs,
  NavigationTarget,
  Settings,
  SignInOutcome,
  UserView,
} from '../../preload/contract.js';
import { ClockOffsetEstimator } from './clock-offset.js';
import type { DesktopClock } from './clock.js';
import { isSessionEnded, ServiceError, UserError } from './errors.js';
import { GrantClient } from './grant-client.js';
import { DeadlineScheduler } from './deadlines.js';
import { KeychainUnavailableError, SESSION_ACCOUNT, type Keychain } from './keychain.js';
import { LiveEvents } from './live-events.js';
import { newerGrant, newerRequest, reconcile, upsert } from './merge.js';
import * as text from './notice-text.js';
import { NotificationPolicy, type Notice, type Notifier } from './notifications.js';
import { publicSettings, type SettingsStore } from './settings.js';
import { StateStore } from './state-store.js';
import { CredentialVault, type StoredCredential } from './vault.js';

export interface CoreLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface CoreDeps {
  readonly clock: DesktopClock;
  readonly fetch: typeof fetch;
  readonly keychain: Keychain;
  readonly settings: SettingsStore;
  readonly notifier: Notifier;
  readonly log: CoreLogger;
  /** The embedded demo service, used while no service URL is configured. */
  readonly embeddedServiceUrl?: string | null;
  readonly random?: () => number;
  readonly pollEveryMs?: number;
  readonly coalesceMs?: number;
}

const ENDED_GRANTS_KEPT = 20;
/** Seat counts are read again this long after the first of a burst of seat-pool changes. */
const CATALOG_REFRESH_DELAY_MS = 500;
const NOTICES_KEPT = 50;
/** A jump between wall and monotonic time beyond this means someone set the clock. */
const CLOCK_JUMP_MS = 2000;
/** After a clock change, how long deadlines wait for the service's clock to be measured again. */
const REMEASURE_WAIT_MS = 5000;

interface StoredSession {
  readonly serviceUrl: string;
  readonly token: string;
  readonly user: UserView;
}

/**
 * The desktop app without Electron: session, grant client, live events, the credential vault, reminders
 * and expiry, notifications, and the state the tray and the windows show. Electron adapters drive it
 * and render it; Node tests run it as is against a real service.
 */
export class TimeboxCore {
  readonly store: StateStore;
  private readonly offset = new ClockOffsetEstimator();
  private readonly client: GrantClient;
  private readonly vault: CredentialVault;
  private readonly deadlines: DeadlineScheduler;
  private readonly notices: NotificationPolicy;
  private readonly navigationListeners = new Set<(target: NavigationTarget) => void>();
  private readonly credentialFetches = new Map<string, Promise<void>>();
  private live: LiveEvents | null = null;
  private session: StoredSession | null = null;
  /** Events that arrive during a resync wait for it, then apply on top. */
  private buffered: { type: string; data: unknown }[] | null = null;
  private resyncing: Promise<void> | null = null;
  /**
   * Whether this session has had its first full sync. From then on, whatever a resync finds new (an
   * activation, a decision, a request to approve) is announced as the live stream would have: so
   * polling, or a stream that came back after missing events, still tells the user.
   */
  private synced = false;
  private cancelCatalogRefresh: (() => void) | null = null;
  private wallMinusMonotonic: number;

  constructor(private readonly deps: CoreDeps) {
    this.wallMinusMonotonic = deps.clock.now() - deps.clock.monotonic();
    const settings = deps.settings.read();
    this.store = new StateStore({
      service: this.serviceOf(settings.serviceUrl),
      session: { status: 'signed-out', user: null, message: null },
      connection: { status: 'idle', retryAt: null, message: null },
      clockOffsetMs: 0,
      keychain: { available: true, message: null },
      catalog: [],
      grants: [],
      requests: [],
      approvals: [],
      settings: publicSettings(settings),
      notices: [],
    });
    this.client = new GrantClient({
      baseUrl: () => this.store.state.service.url,
      token: () => this.session?.token ?? null,
      fetch: deps.fetch,
      clock: deps.clock,
      offset: this.offset,
      ...(deps.random ? { random: deps.random } : {}),
    });
    this.vault = new CredentialVault(deps.keychain, deps.settings, deps.clock);
    this.deadlines = new DeadlineScheduler(deps.clock, {
      reminder: (grantId, secondsLeft, lead) => {
        const grant = this.grant(grantId);
        if (grant) this.notify(text.expiring(this.noticeContext(), grant, secondsLeft, lead));
      },
      expired: (grantId) => {
        void this.endLocally(grantId);
      },
    });
    this.notices = new NotificationPolicy({
      clock: deps.clock,
      notifier: deps.notifier,
      doNotDisturb: () => this.store.state.settings.doNotDisturb,
      record: (notice, shown) => {
        const record = {
          id: notice.key,
          at: deps.clock.now(),
          title: notice.title,
          body: notice.body,
          target: notice.target,
          shown,
        };
        this.store.update({ notices: [record, ...this.store.state.notices].slice(0, NOTICES_KEPT) });
      },
      open: (target) => {
        this.navigate(target);
      },
      ...(deps.coalesceMs === undefined ? {} : { coalesceMs: deps.coalesceMs }),
    });
  }

  /** Start-up: wipe credentials whose grants have ended, then resume the saved session if there is one. */
  async start(): Promise<void> {
    await this.probeKeychain();
    if (!this.store.state.keychain.available) return;
    // Before anything is known from the service: whatever expired while the app was not running goes now.
    const wiped = await this.vault.sweep((entry) => Date.parse(entry.expiresAt) > this.serviceNow());
    if (wiped.length > 0)
      this.deps.log.info({ wiped: wiped.length }, 'start-up sweep removed credentials of ended grants');
    const saved = await this.deps.keychain.get(SESSION_ACCOUNT);
    const session = saved ? this.parseSession(saved) : null;
    if (!session || session.serviceUrl !== this.store.state.service.url) return;
    this.session = session;
    this.store.update({ session: { status: 'signed-in', user: session.user, message: null } });
    this.connect();
  }

  async stop(): Promise<void> {
    this.cancelCatalogRefresh?.();
    this.cancelCatalogRefresh = null;
    this.live?.stop();
    this.live = null;
    this.deadlines.stop();
    this.notices.flush();
    this.notices.stop();
    await Promise.allSettled([...this.credentialFetches.values()]);
  }

  onNavigate(listener: (target: NavigationTarget) => void): () => void {
    this.navigationListeners.add(listener);
    return () => {
      this.navigationListeners.delete(listener);
    };
  }

  navigate(target: NavigationTarget): void {
    for (const listener of this.navigationListeners) listener(target);
  }

  // ── Session ──────────────────────────────────────────────────────────────────────────────────

  async signIn(args: InvokeArgs<'signIn'>): Promise<SignInOutcome> {
    if (args.serviceUrl !== undefined && args.serviceUrl !== this.store.state.settings.serviceUrl) {
      await this.updateSettings({ serviceUrl: args.serviceUrl });
    }
    const serviceUrl = this.store.state.service.url;
    if (!serviceUrl) throw new UserError('no_service', 'Enter the URL of your Timebox service first.');
    this.store.update({ session: { status: 'signing-in', user: null, message: null } });
    try {
      const answer = await this.client.login(args.username, args.password, args.otp);
      const session: StoredSession = { serviceUrl, token: answer.token, user: answer.user };
      this.session = session;
      this.synced = false;
      await this.persistSession(session);
      this.store.update({ session: { status: 'signed-in', user: answer.user, message: null } });
      this.connect();
      return { status: 'signed-in', user: answer.user };
    } catch (error) {
      const otpRequired = error instanceof ServiceError && error.code === 'otp_required';
      this.store.update({
        session: { status: 'signed-out', user: null, message: otpRequired ? null : messageOf(error) },
      });
      if (otpRequired) return { status: 'otp-required' };
      throw error;
    }
  }

  /** Ends the session on the service (when it answers) and wipes every credential, whatever it answers. */
  async signOut(): Promise<void> {
    this.live?.stop();
    this.live = null;
    if (this.session) {
      await this.client.logout().catch((error: unknown) => {
        this.deps.log.warn(
          { code: error instanceof ServiceError ? error.code : 'unknown' },
          'logout did not reach the service',
        );
      });
    }
    this.session = null;
    this.synced = false;
    await this.deps.keychain.delete(SESSION_ACCOUNT).catch(() => false);
    await this.vault.wipeAll().catch((error: unknown) => {
      this.deps.log.warn({ error: messageOf(error) }, 'could not wipe every credential at sign-out');
    });
    this.deadlines.stop();
    this.store.update({
      session: { status: 'signed-out', user: null, message: null },
      connection: { status: 'idle', retryAt: null, message: null },
      catalog: [],
      grants: [],
      requests: [],
      approvals: [],
    });
  }

  // ── Commands ─────────────────────────────────────────────────────────────────────────────────

  async requestAccess(args: InvokeArgs<'requestAccess'>): Promise<RequestView> {
    const request = await this.call(() =>
      this.client.createRequest(
        { ...args, ticket: args.ticket?.trim() ? args.ticket.trim() : undefined },
        randomUUID(),
      ),
    );
    this.store.update({ requests: upsert(this.store.state.requests, request, newerRequest) });
    // The user's own request granted: news, even before the live stream has connected.
    if (request.grantId)
      this.learnGrant(await this.call(() => this.client.grant(request.grantId ?? '')), { announce: true });
    return request;
  }

  async approve(args: InvokeArgs<'approve'>): Promise<RequestView> {
    return this.decided(await this.call(() => this.client.approve(args.requestId, args.comment)));
  }

  async deny(args: InvokeArgs<'deny'>): Promise<RequestView> {
    return this.decided(await this.call(() => this.client.deny(args.requestId, args.comment)));
  }

  async cancelRequest(args: InvokeArgs<'cancelRequest'>): Promise<RequestView> {
    const request = await this.call(() => this.client.cancel(args.requestId));
    this.store.update({ requests: upsert(this.store.state.requests, request, newerRequest) });
    return request;
  }

  async extendGrant(args: InvokeArgs<'extendGrant'>): Promise<ExtendOutcome> {
    const outcome = await this.call(() =>
      this.client.extend(args.grantId, args.durationSeconds, args.reason, randomUUID()),
    );
    if (outcome.kind === 'extended') this.learnGrant(outcome.grant);
    else this.store.update({ requests: upsert(this.store.state.requests, outcome.request, newerRequest) });
    return outcome;
  }

  async relinquishGrant(args: InvokeArgs<'relinquishGrant'>): Promise<GrantView> {
    const grant = await this.call(() => this.client.relinquish(args.grantId));
    this.learnGrant(grant);
    return grant;
  }

  /** The credential from the keychain, for copy or an explicit reveal; fetched if it is not there yet. */
  async credential(grantId: string): Promise<StoredCredential> {
    if (!this.store.state.keychain.available)
      throw new KeychainUnavailableError(this.store.state.keychain.message ?? 'unavailable');
    const grant = this.grant(grantId);
    if (!grant || grant.status !== 'active' || Date.parse(grant.expiresAt) <= this.serviceNow()) {
      throw new UserError(
        'grant_ended',
        'This grant has ended; its credential is gone. Request access again.',
      );
    }
    const stored = await this.vault.read(grantId);
    if (stored) return stored;
    await this.fetchCredential(grant);
    const fetched = await this.vault.read(grantId);
    if (!fetched)
      throw new UserError(
        'credential_unavailable',
        this.grant(grantId)?.credentialError ?? 'The credential could not be fetched; try again.',
      );
    return fetched;
  }

  async refresh(): Promise<void> {
    await this.call(() => this.resync());
  }

  async updateSettings(patch: InvokeArgs<'updateSettings'>): Promise<Settings> {
    const current = this.deps.settings.read();
    const next = {
      ...current,
      ...(patch.serviceUrl === undefined
        ? {}
        : { serviceUrl: patch.serviceUrl?.replace(/\/+$/, '') ?? null }),
      ...(patch.reminderLeadsSeconds === undefined
        ? {}
        : { reminderLeadsSeconds: [...new Set(patch.reminderLeadsSeconds)].sort((a, b) => b - a) }),
      ...(patch.doNotDisturb === undefined ? {} : { doNotDisturb: patch.doNotDisturb }),
      ...(patch.launchAtLogin === undefined ? {} : { launchAtLogin: patch.launchAtLogin }),
    };
    const serviceChanged = next.serviceUrl !== current.serviceUrl;
    // Another service means another identity: nothing of this one's may stay behind.
    if (serviceChanged && this.session) await this.signOut();
    this.deps.settings.write(next);
    this.store.update({
      settings: publicSettings(next),
      ...(serviceChanged ? { service: this.serviceOf(next.serviceUrl) } : {}),
    });
    this.trackDeadlines();
    return publicSettings(next);
  }

  // ── The machine around us ────────────────────────────────────────────────────────────────────

  /** After sleep: the connection is likely dead and timers may be late. */
  systemResumed(): void {
    this.clockMayHaveChanged();
    this.live?.reconnectNow();
  }

  screenUnlocked(): void {
    this.deadlines.rearm();
  }

  /** Our wall clock may have been set: measure the service's clock again and re-arm every deadline. */
  clockMayHaveChanged(): void {
    this.wallMinusMonotonic = this.deps.clock.now() - this.deps.clock.monotonic();
    this.offset.reset();
    if (!this.session) {
      this.deadlines.rearm();
      return;
    }
    // Deadlines are judged on the service's clock: after a clock set, the old offset is wrong by the whole
    // jump (an hour forward would end every grant at once). The resync measures it again and re-arms with
    // it; if the service does not answer soon, judge by the offset we had: expiry never waits on the network.
    let judged = false;
    const judge = (): void => {
      if (judged) return;
      judged = true;
      cancel();
      this.deadlines.rearm();
    };
    const cancel = this.deps.clock.setTimer(judge, REMEASURE_WAIT_MS);
    void this.refresh().then(() => {
      judged = true;
      cancel();
    }, judge);
  }

  // ── Live state ───────────────────────────────────────────────────────────────────────────────

  private connect(): void {
    this.live?.stop();
    this.live = new LiveEvents({
      client: this.client,
      fetch: this.deps.fetch,
      clock: this.deps.clock,
      offset: this.offset,
      random: this.deps.random ?? Math.random,
      onEvent: (type, data) => {
        if (this.buffered) this.buffered.push({ type, data });
        else this.apply(type, data);
      },
      onStatus: (status, retryAt, message) => {
        this.store.update({ connection: { status, retryAt, message } });
      },
      resync: () => this.resync(),
      onSessionEnded: () => {
        void this.sessionEnded();
      },
      onAlive: () => {
        this.noticeClockJump();
      },
      ...(this.deps.pollEveryMs === undefined ? {} : { pollEveryMs: this.deps.pollEveryMs }),
    });
    this.live.start();
  }

  /** Everything afresh from the service; events that arrive meanwhile apply on top afterwards. */
  private resync(): Promise<void> {
    this.resyncing ??= (async () => {
      this.buffered = [];
      const notices: Notice[] = [];
      try {
        if (!this.store.state.keychain.available) await this.probeKeychain();
        const [catalog, requests, approvals, active, ended] = await Promise.all([
          this.client.resources(),
          this.client.myRequests(),
          this.client.approvals(),
          this.client.grants('active'),
          this.client.grants('ended', ENDED_GRANTS_KEPT),
        ]);
        const state = this.store.state;
        notices.push(...this.newsBetween(state, { catalog, requests, approvals, active }));
        this.store.update({
          catalog,
          requests: reconcile(state.requests, requests, newerRequest),
          approvals,
          grants: reconcile(
            state.grants,
            [...active, ...ended].map((grant) => this.withCredential(grant)),
            newerGrant,
          ),
          clockOffsetMs: this.offset.offsetMs,
        });
      } finally {
        const events = this.takeBuffered();
        this.resyncing = null;
        for (const event of events) this.apply(event.type, event.data);
      }
      for (const notice of notices) this.notify(notice);
      this.synced = true;
      await this.reconcileVault();
      this.trackDeadlines();
    })();
    return this.resyncing;
  }

  /**
   * What a resync found that the live stream would have announced: decisions on requests we knew, and
   * the grants they became; after the session's first sync, also new requests to approve and any new
   * grant. The first sync announces no backlog, only what changed in what the user was waiting for.
   */
  private newsBetween(
    before: AppState,
    after: {
      catalog: AppState['catalog'];
      requests: RequestView[];
      approvals: RequestView[];
      active: GrantView[];
    },
  ): Notice[] {
    const context = { ...this.noticeContext(), catalog: after.catalog };
    const knownApprovals = new Set(before.approvals.map((request) => request.id));
    const statusBefore = new Map(before.requests.map((request) => [request.id, request.status]));
    const activeBefore = new Set(
      before.grants.filter((grant) => grant.status === 'active').map((grant) => grant.id),
    );
    const awaited = (grant: GrantView): boolean => {
      const status = statusBefore.get(grant.requestId);
      return status === 'pending' || status === 'queued';
    };
    return [
      ...after.approvals
        .filter((request) => this.synced && !knownApprovals.has(request.id))
        .map((request) => text.approvalNeeded(context, request)),
      ...after.requests.flatMap((request) => {
        const previous = statusBefore.get(request.id);
        if (previous === undefined || previous === request.status) return [];
        const grant = after.active.find(
          (candidate) => candidate.id === (request.extendsGrantId ?? request.grantId),
        );
        return text.requestChanged(context, request, grant) ?? [];
      }),
      ...after.active
        .filter((grant) => !activeBefore.has(grant.id) && (this.synced || awaited(grant)))
        .map((grant) => text.activated(context, grant)),
    ];
  }

  /** The events held back during a resync (read after awaits, which filled it). */
  private takeBuffered(): { type: string; data: unknown }[] {
    const events = this.buffered ?? [];
    this.buffered = null;
    return events;
  }

  private apply(type: string, data: unknown): void {
    const me = this.session?.user.id;
    if (!me) return;
    switch (type) {
      case 'approval.needed': {
        const request = data as RequestView;
        if (request.waitingFor.includes(me)) {
          this.store.update({ approvals: upsert(this.store.state.approvals, request, newerRequest) });
          this.notify(text.approvalNeeded(this.noticeContext(), request));
        }
        return;
      }
      case 'request.updated': {
        const request = data as RequestView;
        if (request.requesterId === me) {
          const before = this.store.state.requests.find((candidate) => candidate.id === request.id);
          this.store.update({ requests: upsert(this.store.state.requests, request, newerRequest) });
          if (request.status === 'queued') this.seatsMayHaveChanged(request);
          if (before?.status !== request.status) {
            const notice = text.requestChanged(
              this.noticeContext(),
              request,
              this.grant(request.extendsGrantId ?? request.grantId ?? ''),
            );
            if (notice) this.notify(notice);
          }
        }
        this.decided(request);
        return;
      }
      case 'grant.activated':
      case 'grant.extended':
      case 'grant.ended':
        // A stream event is always news: it happened after the stream connected.
        this.learnGrant(data as GrantView, { announce: true });
        if (type !== 'grant.extended') this.seatsMayHaveChanged(data as GrantView);
        return;
      case 'grant.expiring': // reminders come from our own scheduler, at the user's lead times
      default:
        return;
    }
  }

  /** A request's new state as seen from the approvals inbox. */
  private decided(request: RequestView): RequestView {
    const me = this.session?.user.id ?? '';
    const stillMine = request.status === 'pending' && request.waitingFor.includes(me);
    const approvals = this.store.state.approvals;
    this.store.update({
      approvals: stillMine
        ? upsert(approvals, request, newerRequest)
        : approvals.filter((candidate) => candidate.id !== request.id),
      ...(request.requesterId === me
        ? { requests: upsert(this.store.state.requests, request, newerRequest) }
        : {}),
    });
    return request;
  }

  /** Takes in a grant's news: keeps its credential in step (fetched, refreshed, wiped) and its deadlines. */
  private learnGrant(incoming: GrantView, options: { readonly announce?: boolean } = {}): void {
    const known = this.grant(incoming.id);
    const merged = known
      ? newerGrant(known, this.withCredential(incoming, known))
      : this.withCredential(incoming);
    this.store.update({ grants: this.trimmed(upsert(this.store.state.grants, merged, newerGrant)) });
    if (merged.status === 'active' && known?.status !== 'active' && options.announce === true) {
      this.notify(text.activated(this.noticeContext(), merged));
    }
    if (merged.status === 'active') {
      // A new expiry means a new token (its exp is the grant's): fetch again.
      if (!known || known.expiresAt !== merged.expiresAt || merged.credential !== 'stored')
        void this.fetchCredential(merged);
    } else if (known?.status === 'active' || merged.credential === 'stored') {
      void this.wipe(merged, true);
    }
    this.trackDeadlines();
  }

  /**
   * A grant or queued request of a seat pool changed: the catalog's seat counts are stale. No event
   * carries them, so the catalog is read again, once for a burst of changes.
   */
  private seatsMayHaveChanged(item: { readonly resourceId: string; readonly role: string }): void {
    const role = this.store.state.catalog
      .find((resource) => resource.id === item.resourceId)
      ?.roles.find((candidate) => candidate.name === item.role);
    if (!role?.seats || this.cancelCatalogRefresh) return;
    this.cancelCatalogRefresh = this.deps.clock.setTimer(() => {
      this.cancelCatalogRefresh = null;
      void this.call(() => this.client.resources()).then(
        (catalog) => {
          this.store.update({ catalog });
        },
        () => undefined, // the next resync brings them
      );
    }, CATALOG_REFRESH_DELAY_MS);
  }

  /** Asks the keychain again whether it answers (it may have been unlocked since). */
  private async probeKeychain(): Promise<void> {
    const probe = await this.vault.probe();
    this.store.update({
      keychain: probe.available
        ? { available: true, message: null }
        : { available: false, message: probe.message },
    });
  }

  /** Expiry on our clock: wipe now, whether or not the service can be reached. */
  private async endLocally(grantId: string): Promise<void> {
    const grant = this.grant(grantId);
    if (!grant) return;
    const ended: GrantState =
      grant.status === 'active'
        ? { ...grant, status: 'expired', endReason: 'expired', endedAt: grant.expiresAt }
        : grant;
    this.store.update({ grants: this.trimmed(upsert(this.store.state.grants, ended, newerGrant)) });
    await this.wipe(ended, true);
  }

  private async wipe(grant: GrantState, tell: boolean): Promise<void> {
    try {
      await this.vault.wipe(grant.id);
      this.setCredential(grant.id, 'wiped', null);
    } catch (error) {
      this.deps.log.warn({ grantId: grant.id, error: messageOf(error) }, 'could not wipe a credential');
    }
    if (tell) this.notify(text.ended(this.noticeContext(), grant));
  }

  private fetchCredential(grant: GrantState): Promise<void> {
    const running = this.credentialFetches.get(grant.id);
    if (running) return running;
    // The entry is removed in a later step (finally), never before it is recorded, even when the fetch
    // finishes at once: otherwise a finished fetch would stay recorded and block every later one.
    const fetching = this.fetchAndStore(grant).finally(() => {
      this.credentialFetches.delete(grant.id);
    });
    this.credentialFetches.set(grant.id, fetching);
    return fetching;
  }

  private async fetchAndStore(grant: GrantState): Promise<void> {
    if (!this.store.state.keychain.available) {
      this.setCredential(grant.id, 'failed', this.store.state.keychain.message);
      return;
    }
    this.setCredential(grant.id, 'fetching', null);
    try {
      const credential = await this.client.credential(grant.id);
      await this.vault.store(grant, credential);
      const current = this.grant(grant.id);
      // It ended while we fetched: the copy must not outlive it.
      if (!current || current.status !== 'active') await this.vault.wipe(grant.id);
      else this.setCredential(grant.id, 'stored', null);
    } catch (error) {
      if (isSessionEnded(error)) void this.sessionEnded();
      if (error instanceof ServiceError && error.code === 'grant_ended')
        this.setCredential(grant.id, 'none', null);
      else this.setCredential(grant.id, 'failed', messageOf(error));
    }
  }

  /** After a resync: wipe what ended while we were away, fetch what is missing. */
  private async reconcileVault(): Promise<void> {
    if (!this.store.state.keychain.available) return;
    const active = new Map(
      this.store.state.grants.filter((grant) => grant.status === 'active').map((grant) => [grant.id, grant]),
    );
    const wiped = await this.vault.sweep((entry) => active.has(entry.grantId));
    for (const grantId of wiped) {
      const grant = this.grant(grantId);
      this.setCredential(grantId, 'wiped', null);
      if (grant) this.notify(text.ended(this.noticeContext(), grant));
    }
    const stored = new Set(this.vault.entries().map((entry) => entry.grantId));
    for (const grant of active.values()) if (!stored.has(grant.id)) void this.fetchCredential(grant);
  }

  private trackDeadlines(): void {
    const active = this.store.state.grants.filter((grant) => grant.status === 'active');
    this.deadlines.update(
      active.map((grant) => ({
        grantId: grant.id,
        startsAt: Date.parse(grant.startsAt),
        expiresAt: Date.parse(grant.expiresAt),
      })),
      this.store.state.settings.reminderLeadsSeconds,
      this.offset.offsetMs,
    );
    if (this.store.state.clockOffsetMs !== this.offset.offsetMs)
      this.store.update({ clockOffsetMs: this.offset.offsetMs });
  }

  private async sessionEnded(): Promise<void> {
    // Once per session: every later call refused for want of a token is the same news, not another notice
    // (and a call made while signed out must not turn "signed out" into "expired").
    if (!this.session) return;
    this.live?.stop();
    this.live = null;
    this.session = null;
    this.synced = false;
    await this.deps.keychain.delete(SESSION_ACCOUNT).catch(() => false);
    const message =
      'Your session has ended (it expired or was signed out). Sign in again; your active grants keep their credentials until they end.';
    this.store.update({
      session: { status: 'expired', user: this.store.state.session.user, message },
      connection: { status: 'idle', retryAt: null, message: null },
    });
    this.notify({
      key: `session-ended:${this.deps.clock.now()}`,
      kind: 'session-ended',
      title: 'Sign in to Timebox again',
      body: message,
      target: { view: 'sign-in' },
    });
  }

  /** Runs a service call; a session that ended on the way is handled here, once, for every caller. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isSessionEnded(error)) void this.sessionEnded();
      throw error;
    } finally {
      if (this.store.state.clockOffsetMs !== this.offset.offsetMs)
        this.store.update({ clockOffsetMs: this.offset.offsetMs });
    }
  }

  private notify(notice: Notice): void {
    this.notices.push(notice);
  }

  /** A jump of the wall clock against the monotonic one, noticed whenever the stream shows life. */
  private noticeClockJump(): void {
    const now = this.deps.clock.now() - this.deps.clock.monotonic();
    if (Math.abs(now - this.wallMinusMonotonic) > CLOCK_JUMP_MS) this.clockMayHaveChanged();
  }

  private async persistSession(session: StoredSession): Promise<void> {
    if (!this.store.state.keychain.available) return; // kept in memory only: never written anywhere else
    await this.deps.keychain.set(SESSION_ACCOUNT, JSON.stringify(session));
  }

  private parseSession(saved: string): StoredSession | null {
    try {
      const value = JSON.parse(saved) as Partial<StoredSession>;
      return typeof value.token === 'string' && typeof value.serviceUrl === 'string' && value.user
        ? (value as StoredSession)
        : null;
    } catch {
      return null;
    }
  }

  private withCredential(grant: GrantView, known?: GrantState): GrantState {
    const stored = this.vault.entries().some((entry) => entry.grantId === grant.id);
    return {
      ...grant,
      credential: known?.credential ?? (stored ? 'stored' : grant.status === 'active' ? 'none' : 'wiped'),
      credentialError: known?.credentialError ?? null,
    };
  }

  private setCredential(
    grantId: string,
    credential: GrantState['credential'],
    credentialError: string | null,
  ): void {
    this.store.update({
      grants: this.store.state.grants.map((grant) =>
        grant.id === grantId ? { ...grant, credential, credentialError } : grant,
      ),
    });
  }

  private grant(grantId: string): GrantState | undefined {
    return this.store.state.grants.find((grant) => grant.id === grantId);
  }

  /** Active grants, and the most recent ended ones. */
  private trimmed(grants: GrantState[]): GrantState[] {
    const active = grants.filter((grant) => grant.status === 'active');
    const ended = grants.filter((grant) => grant.status !== 'active').slice(0, ENDED_GRANTS_KEPT);
    return [...active, ...ended];
  }

  private serviceNow(): number {
    return this.deps.clock.now() + this.offset.offsetMs;
  }

  private serviceOf(serviceUrl: string | null): AppState['service'] {
    return serviceUrl === null
      ? { url: this.deps.embeddedServiceUrl ?? null, embedded: this.deps.embeddedServiceUrl != null }
      : { url: serviceUrl, embedded: false };
  }

  private noticeContext(): text.NoticeContext {
    const state = this.store.state;
    return {
      catalog: state.catalog,
      clockOffsetMs: state.clockOffsetMs,
      displayName: (userId) => (userId === state.session.user?.id ? 'You' : userId),
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
