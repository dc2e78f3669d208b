import type { RequestView } from '../../api/schemas.js';
import type { CoreContext } from './core-context.js';
import { ENDED_GRANTS_KEPT, type GrantCredentials } from './grant-credentials.js';
import { LiveEvents } from './live-events.js';
import { newerGrant, newerRequest, reconcile, upsert } from './merge.js';
import * as text from './notice-text.js';
import { newsBetween, type News } from './resync-news.js';
import { parseStreamEvent, type StreamEvent } from './stream-events.js';

/** Seat counts are read again this long after the first of a burst of seat-pool changes. */
const CATALOG_REFRESH_DELAY_MS = 500;

export interface LiveSyncHooks {
  /** The service no longer takes the token; `code` says why when it said. */
  sessionEnded(code: string | null): void;
  /** The stream showed life: a moment to look at the clocks too. */
  alive(): void;
  /** A connection attempt ended one way or another (its answer may have measured the service's clock). */
  connectionChanged(): void;
}

/**
 * The session's view of the service, kept current: the live event stream, a full resync after every
 * connect (and every poll while the stream is away), and the news either one brings. Events and resyncs
 * commute: events that arrive during a resync wait for it and apply on top.
 */
export class LiveSync {
  private live: LiveEvents | null = null;
  /** Events that arrive during a resync wait for it, then apply on top. */
  private buffered: StreamEvent[] | null = null;
  private resyncing: Promise<void> | null = null;
  /**
   * Whether this session has had its first full sync. From then on, whatever a resync finds new (an
   * activation, a decision, a request to approve) is announced as the live stream would have: so
   * polling, or a stream that came back after missing events, still tells the user.
   */
  private synced = false;
  private cancelCatalogRefresh: (() => void) | null = null;

  constructor(
    private readonly core: CoreContext,
    private readonly credentials: GrantCredentials,
    private readonly hooks: LiveSyncHooks,
  ) {}

  /** A session began: follow it live. Its first sync announces no backlog. */
  follow(): void {
    this.live?.stop();
    this.synced = false;
    this.live = new LiveEvents({
      client: this.core.client,
      fetch: this.core.deps.fetch,
      clock: this.core.deps.clock,
      offset: this.core.offset,
      random: this.core.deps.random ?? Math.random,
      onEvent: (type, data) => {
        this.receive(type, data);
      },
      onStatus: (status, retryAt, message) => {
        this.core.store.update({ connection: { status, retryAt, message } });
        this.hooks.connectionChanged();
      },
      resync: () => this.resync(),
      onSessionEnded: (code) => {
        this.hooks.sessionEnded(code);
      },
      onAlive: () => {
        this.hooks.alive();
      },
      ...(this.core.deps.pollEveryMs === undefined ? {} : { pollEveryMs: this.core.deps.pollEveryMs }),
    });
    this.live.start();
  }

  unfollow(): void {
    this.live?.stop();
    this.live = null;
    this.synced = false;
  }

  /** After sleep or a network change: drop the connection and connect now. */
  reconnectNow(): void {
    this.live?.reconnectNow();
  }

  stop(): void {
    this.cancelCatalogRefresh?.();
    this.cancelCatalogRefresh = null;
    this.live?.stop();
    this.live = null;
  }

  /** Everything afresh from the service; events that arrive meanwhile apply on top afterwards. */
  resync(): Promise<void> {
    this.resyncing ??= (async () => {
      const news = await this.loadEverything();
      for (const notice of news.notices) this.core.notify(notice);
      this.synced = true;
      await this.credentials.reconcile();
      for (const grantId of news.activated) this.credentials.announceActivated(grantId);
      this.credentials.trackDeadlines();
    })();
    return this.resyncing;
  }

  /** Loads every list, holding back the events that arrive meanwhile, then applies them on top. */
  private async loadEverything(): Promise<News> {
    this.buffered = [];
    const { client } = this.core;
    try {
      if (!this.core.store.state.keychain.available) await this.credentials.probeKeychain();
      const [catalog, requests, approvals, active, ended] = await Promise.all([
        client.resources(),
        client.myRequests(),
        client.approvals(),
        client.grants('active'),
        client.grants('ended', ENDED_GRANTS_KEPT),
      ]);
      const state = this.core.store.state;
      const news = newsBetween(
        { ...this.core.noticeContext(), catalog },
        state,
        { catalog, requests, approvals, active },
        this.synced,
      );
      this.core.store.update({
        catalog,
        requests: reconcile(state.requests, requests, newerRequest),
        approvals,
        grants: reconcile(
          state.grants,
          [...active, ...ended].map((grant) => this.credentials.withCredential(grant)),
          newerGrant,
        ),
      });
      return news;
    } finally {
      const events = this.takeBuffered();
      this.resyncing = null;
      for (const event of events) this.apply(event);
    }
  }

  /** A request of mine, as the service just answered it. */
  learnRequest(request: RequestView): void {
    this.core.store.update({ requests: upsert(this.core.store.state.requests, request, newerRequest) });
  }

  /** A request's new state as seen from the approvals inbox. */
  decided(request: RequestView): RequestView {
    const me = this.core.me() ?? '';
    const stillMine = request.status === 'pending' && request.waitingFor.includes(me);
    const approvals = this.core.store.state.approvals;
    this.core.store.update({
      approvals: stillMine
        ? upsert(approvals, request, newerRequest)
        : approvals.filter((candidate) => candidate.id !== request.id),
      ...(request.requesterId === me
        ? { requests: upsert(this.core.store.state.requests, request, newerRequest) }
        : {}),
    });
    return request;
  }

  /** One event off the stream: checked, then applied (or held while a resync runs). */
  private receive(type: string, data: string): void {
    const parsed = parseStreamEvent(type, data);
    if (parsed.kind === 'ignored') return;
    if (parsed.kind === 'malformed') {
      // Dropped: the next resync brings the truth.
      this.core.deps.log.warn({ type, problem: parsed.problem }, 'dropped a malformed event from the stream');
      return;
    }
    if (this.buffered) this.buffered.push(parsed.event);
    else this.apply(parsed.event);
  }

  /** The events held back during a resync (read after awaits, which filled it). */
  private takeBuffered(): StreamEvent[] {
    const events = this.buffered ?? [];
    this.buffered = null;
    return events;
  }

  private apply(event: StreamEvent): void {
    const me = this.core.me();
    if (!me) return;
    switch (event.type) {
      case 'approval.needed': {
        const request = event.data;
        if (request.waitingFor.includes(me)) {
          this.core.store.update({
            approvals: upsert(this.core.store.state.approvals, request, newerRequest),
          });
          this.core.notify(text.approvalNeeded(this.core.noticeContext(), request));
        }
        return;
      }
      case 'request.updated': {
        const request = event.data;
        if (request.requesterId === me) {
          const before = this.core.store.state.requests.find((candidate) => candidate.id === request.id);
          this.learnRequest(request);
          if (request.status === 'queued') this.seatsMayHaveChanged(request);
          if (before?.status !== request.status) {
            const notice = text.requestChanged(
              this.core.noticeContext(),
              request,
              this.core.grant(request.extendsGrantId ?? request.grantId ?? ''),
            );
            if (notice) this.core.notify(notice);
          }
        }
        this.decided(request);
        return;
      }
      case 'grant.activated':
      case 'grant.extended':
      case 'grant.ended':
        // A stream event is always news: it happened after the stream connected.
        this.credentials.learn(event.data, { announce: true });
        if (event.type !== 'grant.extended') this.seatsMayHaveChanged(event.data);
        return;
    }
  }

  /**
   * A grant or queued request of a seat pool changed: the catalog's seat counts are stale. No event
   * carries them, so the catalog is read again, once for a burst of changes.
   */
  private seatsMayHaveChanged(item: { readonly resourceId: string; readonly role: string }): void {
    const role = this.core.store.state.catalog
      .find((resource) => resource.id === item.resourceId)
      ?.roles.find((candidate) => candidate.name === item.role);
    if (!role?.seats || this.cancelCatalogRefresh) return;
    this.cancelCatalogRefresh = this.core.deps.clock.setTimer(() => {
      this.cancelCatalogRefresh = null;
      void this.core
        .call(() => this.core.client.resources())
        .then(
          (catalog) => {
            this.core.store.update({ catalog });
          },
          () => undefined, // the next resync brings them
        );
    }, CATALOG_REFRESH_DELAY_MS);
  }
}
