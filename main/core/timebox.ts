import type { AuthMethodsView, GrantView, RequestPreviewView, RequestView } from '../../api/schemas.js';
import type {
  AppState,
  ExtendOutcome,
  InsightsReport,
  InvokeArgs,
  KeychainUnlockResult,
  NavigationTarget,
  SeatPoolPeriod,
  SeatPoolUtilization,
  Settings,
  SignInOutcome,
} from '../../preload/contract.js';
import { ClockOffsetEstimator } from '../../api/clock-offset.js';
import { ClockWatch } from './clock-watch.js';
import type { CoreContext, CoreDeps } from './core-context.js';
import { isSessionEnded, ServiceError } from '../../api/errors.js';
import { UserError } from '../../api/errors.js';
import { GrantClient } from '../../api/grant-client.js';
import { GrantCredentials } from './grant-credentials.js';
import { readInsights } from './insights.js';
import { KeychainRecovery } from './keychain-recovery.js';
import { LiveSync } from './live-sync.js';
import { NotificationPolicy } from './notifications.js';
import { psqlEnvironment } from '../../api/postgres-login.js';
import { noTerminal, postgresLogin } from './psql.js';
import { periodEnding } from './seat-pools.js';
import { Session } from './session.js';
import { patchedSettings, publicSettings } from './settings.js';
import { StateStore } from './state-store.js';
import { CredentialVault, type StoredCredential } from './vault.js';

export type { CoreDeps, CoreLogger } from './core-context.js';

const NOTICES_KEPT = 50;
/** After a clock change, how long deadlines wait for the service's clock to be measured again. */
const REMEASURE_WAIT_MS = 5000;

/**
 * The desktop app without Electron: session, grant client, live events, the credential vault, reminders
 * and expiry, notifications, and the state the tray and the windows show. Electron adapters drive it
 * and render it; Node tests run it as is against a real service. The work is done by its parts
 * (`Session`, `LiveSync`, `GrantCredentials`, `ClockWatch`); this class wires them and takes the
 * contract's commands.
 */
export class TimeboxCore {
  readonly store: StateStore;
  private readonly offset = new ClockOffsetEstimator();
  private readonly client: GrantClient;
  private readonly context: CoreContext;
  private readonly session: Session;
  private readonly sync: LiveSync;
  private readonly credentials: GrantCredentials;
  private readonly notices: NotificationPolicy;
  private readonly clockWatch: ClockWatch;
  private readonly keychain: KeychainRecovery;
  private readonly navigationListeners = new Set<(target: NavigationTarget) => void>();
  /** The service's clock offset as last measured: what deadlines go by while it is measured again. */
  private lastOffsetMs = 0;

  constructor(private readonly deps: CoreDeps) {
    const settings = deps.settings.read();
    const store = new StateStore({
      service: this.serviceOf(settings.serviceUrl),
      session: { status: 'signed-out', user: null, message: null },
      connection: { status: 'idle', retryAt: null, message: null },
      clockOffsetMs: 0,
      keychain: { available: true, locked: false, message: null },
      catalog: [],
      grants: [],
      requests: [],
      approvals: [],
      settings: publicSettings(settings),
      notices: [],
    });
    this.store = store;
    this.client = new GrantClient({
      baseUrl: () => store.state.service.url,
      token: () => this.session.token,
      fetch: deps.fetch,
      clock: deps.clock,
      offset: this.offset,
      userAgent: `Timebox desktop (${process.platform})`,
      ...(deps.random ? { random: deps.random } : {}),
    });
    this.notices = new NotificationPolicy({
      clock: deps.clock,
      notifier: deps.notifier,
      doNotDisturb: () => store.state.settings.doNotDisturb,
      record: (notice, shown) => {
        const record = {
          id: notice.key,
          at: deps.clock.now(),
          title: notice.title,
          body: notice.body,
          target: notice.target,
          shown,
        };
        store.update({ notices: [record, ...store.state.notices].slice(0, NOTICES_KEPT) });
      },
      open: (target) => {
        this.navigate(target);
      },
      ...(deps.coalesceMs === undefined ? {} : { coalesceMs: deps.coalesceMs }),
    });
    this.context = {
      deps,
      store,
      client: this.client,
      offset: this.offset,
      vault: new CredentialVault(deps.keychain, deps.settings, deps.clock, deps.log),
      notify: (notice) => {
        this.notices.push(notice);
      },
      noticeContext: () => {
        const state = store.state;
        return {
          catalog: state.catalog,
          clockOffsetMs: state.clockOffsetMs,
          displayName: (userId) => (userId === state.session.user?.id ? 'You' : userId),
        };
      },
      grant: (grantId) => store.state.grants.find((grant) => grant.id === grantId),
      me: () => this.session.user?.id ?? null,
      offsetMs: () => this.measuredOffsetMs(),
      call: (operation) => this.call(operation),
    };
    this.credentials = new GrantCredentials(this.context, () => {
      this.keychain.ensureWatching();
    });
    this.sync = new LiveSync(this.context, this.credentials, {
      sessionEnded: (code) => {
        void this.session.ended(code);
      },
      alive: () => {
        this.clockWatch.check();
      },
      connectionChanged: () => {
        this.offsetMayHaveChanged();
      },
    });
    this.session = new Session(this.context, {
      follow: () => {
        this.sync.follow();
      },
      unfollow: () => {
        this.sync.unfollow();
      },
      wipeEverything: () => this.credentials.wipeAll(),
    });
    this.clockWatch = new ClockWatch(deps.clock, () => {
      this.clockMayHaveChanged();
    });
    this.keychain = new KeychainRecovery(deps.clock, store, this.credentials, this.session, deps.unlocker);
  }

  /**
   * Start-up: wipe credentials whose grants have ended and watch the expiry of the rest (whether or not
   * the service ever answers), then resume the saved session if there is one.
   */
  async start(): Promise<void> {
    this.clockWatch.start();
    // While the keychain is locked or missing, the app runs, says so, and carries on when it answers.
    await this.keychain.start();
  }

  async stop(): Promise<void> {
    this.keychain.stop();
    this.clockWatch.stop();
    this.sync.stop();
    this.notices.flush();
    this.notices.stop();
    await this.credentials.stop();
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
    return this.session.signIn(args, serviceUrl);
  }

  async signInWithProvider(args: InvokeArgs<'signInWithProvider'>): Promise<SignInOutcome> {
    const serviceUrl = this.store.state.service.url;
    if (!serviceUrl) throw new UserError('no_service', 'Enter the URL of your Timebox service first.');
    return this.session.signInWithProvider(args.provider, serviceUrl);
  }

  /** How the service in use signs people in; passwords alone while none is configured. */
  authMethods(): Promise<AuthMethodsView> {
    return this.store.state.service.url
      ? this.call(() => this.client.authMethods())
      : Promise.resolve({ password: true, oidc: [] });
  }

  /** Ends the session on the service (when it answers) and wipes every credential, whatever it answers. */
  signOut(): Promise<void> {
    return this.session.signOut();
  }

  // ── Commands ─────────────────────────────────────────────────────────────────────────────────

  /** Asks for access; a role that needs a fresher or stronger sign-in gets one, and the request is retried. */
  async requestAccess(args: InvokeArgs<'requestAccess'>): Promise<RequestView> {
    try {
      return await this.requestAccessOnce(args);
    } catch (error) {
      const serviceUrl = this.store.state.service.url;
      if (serviceUrl === null || !(await this.session.stepUp(error, serviceUrl))) throw error;
      // The same Idempotency-Key: the refused attempt created nothing.
      return this.requestAccessOnce(args);
    }
  }

  private async requestAccessOnce(args: InvokeArgs<'requestAccess'>): Promise<RequestView> {
    const { idempotencyKey, ticket, ...input } = args;
    const request = await this.call(() =>
      this.client.createRequest(
        { ...input, ticket: ticket?.trim() ? ticket.trim() : undefined },
        idempotencyKey,
      ),
    ).catch(explainReusedKey);
    this.sync.learnRequest(request);
    // The user's own request granted: news, even before the live stream has connected, and even when a
    // sync or the stream has already brought the grant (whichever tells it first, it is told once).
    if (request.grantId) {
      this.credentials.learn(await this.call(() => this.client.grant(request.grantId ?? '')));
      this.credentials.announceActivated(request.grantId);
    }
    return request;
  }

  /** What requestAccess would do with this input now (the dialog shows it as the person types). */
  previewRequest(args: InvokeArgs<'previewRequest'>): Promise<RequestPreviewView> {
    const { ticket, ...input } = args;
    return this.call(() =>
      this.client.previewRequest({ ...input, ticket: ticket?.trim() ? ticket.trim() : undefined }),
    );
  }

  async approve(args: InvokeArgs<'approve'>): Promise<RequestView> {
    return this.sync.decided(await this.call(() => this.client.approve(args.requestId, args.comment)));
  }

  async deny(args: InvokeArgs<'deny'>): Promise<RequestView> {
    return this.sync.decided(await this.call(() => this.client.deny(args.requestId, args.comment)));
  }

  async cancelRequest(args: InvokeArgs<'cancelRequest'>): Promise<RequestView> {
    const request = await this.call(() => this.client.cancel(args.requestId));
    this.sync.learnRequest(request);
    return request;
  }

  async extendGrant(args: InvokeArgs<'extendGrant'>): Promise<ExtendOutcome> {
    const outcome = await this.call(() =>
      this.client.extend(args.grantId, args.durationSeconds, args.reason, args.idempotencyKey),
    ).catch(explainReusedKey);
    if (outcome.kind === 'extended') this.credentials.learn(outcome.grant);
    else this.sync.learnRequest(outcome.request);
    return outcome;
  }

  async relinquishGrant(args: InvokeArgs<'relinquishGrant'>): Promise<GrantView> {
    const grant = await this.call(() => this.client.relinquish(args.grantId));
    this.credentials.learn(grant);
    return grant;
  }

  /** The credential from the keychain, for copy or an explicit reveal; fetched if it is not there yet. */
  credential(grantId: string): Promise<StoredCredential> {
    return this.credentials.read(grantId);
  }

  /** A database login's connection URI, from the keychain (never fetched again while one is kept there). */
  async connectionUri(grantId: string): Promise<string> {
    return postgresLogin(await this.credentials.read(grantId)).uri;
  }

  /** A terminal running psql as the grant's database login, the password in its environment only. */
  async openPsql(grantId: string): Promise<void> {
    const login = postgresLogin(await this.credentials.read(grantId));
    await (this.deps.psql ?? noTerminal).open(psqlEnvironment(login));
    this.deps.log.info({ grantId }, 'opened psql in a terminal');
  }

  /** How each seat pool was used over the period ending now, on the service's clock (administrators). */
  seatPoolUtilization(period: SeatPoolPeriod): Promise<SeatPoolUtilization> {
    const { from, to } = periodEnding(period, this.deps.clock.now() + this.measuredOffsetMs());
    return this.call(() => this.client.seatPoolUtilization(from, to));
  }

  /** The Insights screen's figures for the period ending now, on the service's clock (administrators). */
  insights(period: SeatPoolPeriod): Promise<InsightsReport> {
    const { from, to } = periodEnding(period, this.deps.clock.now() + this.measuredOffsetMs());
    return this.call(() => readInsights(this.client, from, to));
  }

  /** Asks the OS to unlock the keychain, and finishes at once what waited for it. */
  unlockKeychain(): Promise<KeychainUnlockResult> {
    return this.keychain.unlock();
  }

  async refresh(): Promise<void> {
    await this.call(() => this.sync.resync());
  }

  async updateSettings(patch: InvokeArgs<'updateSettings'>): Promise<Settings> {
    const current = this.deps.settings.read();
    const next = patchedSettings(current, patch);
    const serviceChanged = next.serviceUrl !== current.serviceUrl;
    // Another service means another identity: nothing of this one's may stay behind, even when its session
    // has already ended (its grants may still have credentials here).
    if (serviceChanged && (this.session.token !== null || current.vault.length > 0)) await this.signOut();
    // Read again: signing out emptied the vault index, which must not come back with `next`.
    this.deps.settings.write({ ...next, vault: this.deps.settings.read().vault });
    this.store.update({
      settings: publicSettings(next),
      ...(serviceChanged ? { service: this.serviceOf(next.serviceUrl) } : {}),
    });
    this.credentials.trackDeadlines();
    return publicSettings(next);
  }

  // ── The machine around us ────────────────────────────────────────────────────────────────────

  /** After sleep: the connection is likely dead and timers may be late. */
  systemResumed(): void {
    this.clockMayHaveChanged();
    this.sync.reconnectNow();
  }

  screenUnlocked(): void {
    this.credentials.rearm();
  }

  /** Our wall clock may have been set: measure the service's clock again and re-arm every deadline. */
  clockMayHaveChanged(): void {
    this.clockWatch.accept();
    this.measuredOffsetMs(); // keeps the offset we had, to judge by until the new one is measured
    this.offset.reset();
    if (!this.session.token) {
      this.credentials.rearm();
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
      this.credentials.rearm();
    };
    const cancel = this.deps.clock.setTimer(judge, REMEASURE_WAIT_MS);
    void this.refresh().then(() => {
      judged = true;
      cancel();
    }, judge);
  }

  // ── Helpers the parts share ──────────────────────────────────────────────────────────────────

  /** Runs a service call; a session that ended on the way is handled here, once, for every caller. */
  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (isSessionEnded(error)) void this.session.ended(error.code);
      throw error;
    } finally {
      this.offsetMayHaveChanged();
    }
  }

  /** Service time minus ours: the latest measurement, or the last one while none is known. */
  private measuredOffsetMs(): number {
    if (this.offset.known) this.lastOffsetMs = this.offset.offsetMs;
    return this.lastOffsetMs;
  }

  /** An answer from the service measured its clock: deadlines (and the countdowns shown) follow it. */
  private offsetMayHaveChanged(): void {
    if (this.store.state.clockOffsetMs !== this.measuredOffsetMs()) this.credentials.trackDeadlines();
  }

  private serviceOf(serviceUrl: string | null): AppState['service'] {
    return serviceUrl === null
      ? { url: this.deps.embeddedServiceUrl ?? null, embedded: this.deps.embeddedServiceUrl != null }
      : { url: serviceUrl, embedded: false };
  }
}

/** A retry whose key the service already saw with other details: say what happened, in the user's words. */
function explainReusedKey(error: unknown): never {
  if (error instanceof ServiceError && error.code === 'idempotency_key_reused') {
    throw new UserError(
      'idempotency_key_reused',
      'This dialog already sent a different request, and its answer was lost. Close the dialog, check My access, and ask again if you still need to.',
    );
  }
  throw error;
}
