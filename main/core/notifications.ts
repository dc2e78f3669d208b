import type { NavigationTarget } from '../../preload/contract.js';
import type { DesktopClock } from './clock.js';

export type NoticeKind =
  | 'approval-needed'
  | 'request-decided'
  | 'queued'
  | 'activated'
  | 'extended'
  | 'expiring'
  | 'ended'
  | 'session-ended';

export interface Notice {
  /** One notification per event: a notice whose key was already shown is dropped. */
  readonly key: string;
  readonly kind: NoticeKind;
  readonly title: string;
  readonly body: string;
  /** What a click opens. */
  readonly target: NavigationTarget;
  /** A button, where the platform shows them (Extend on an expiring grant). */
  readonly action?: { readonly label: string; readonly target: NavigationTarget };
}

/** The desktop's notifications: Electron's Notification in the app, a recorder in tests. */
export interface Notifier {
  show(notice: Notice, onClick: (target: NavigationTarget) => void): void;
}

/** Several of one kind at once become one summary, so a burst never floods the screen. */
const SUMMARIES: Readonly<
  Record<NoticeKind, (count: number) => { title: string; body: string; target: NavigationTarget }>
> = {
  'approval-needed': (count) => ({
    title: `${count} requests wait for your approval`,
    body: 'Open the approvals inbox to decide.',
    target: { view: 'approvals' },
  }),
  'request-decided': (count) => ({
    title: `${count} of your requests were decided`,
    body: 'See them in My access.',
    target: { view: 'access' },
  }),
  queued: (count) => ({
    title: `${count} requests are waiting for a seat`,
    body: 'You will be told when each one starts.',
    target: { view: 'access' },
  }),
  activated: (count) => ({
    title: `${count} grants are active`,
    body: 'Their credentials are in your keychain.',
    target: { view: 'access' },
  }),
  extended: (count) => ({
    title: `${count} grants were extended`,
    body: 'See the new end times in My access.',
    target: { view: 'access' },
  }),
  expiring: (count) => ({
    title: `${count} grants end soon`,
    body: 'Extend the ones you still need.',
    target: { view: 'access' },
  }),
  ended: (count) => ({
    title: `${count} grants have ended`,
    body: 'Their credentials were removed from your keychain.',
    target: { view: 'access' },
  }),
  'session-ended': () => ({
    title: 'Sign in to Timebox again',
    body: 'Your session has ended.',
    target: { view: 'sign-in' },
  }),
};

const REMEMBERED_KEYS = 1000;

/**
 * Decides what reaches the desktop: each event once (by key), bursts coalesced within a short window
 * into one summary per kind, nothing while do-not-disturb is on (the notice is still recorded for the
 * app to show). A click opens the notice's view.
 */
export class NotificationPolicy {
  private readonly seen: string[] = [];
  private queue: Notice[] = [];
  private cancelFlush: (() => void) | null = null;

  constructor(
    private readonly deps: {
      readonly clock: DesktopClock;
      readonly notifier: Notifier;
      readonly doNotDisturb: () => boolean;
      /** Every notice that went out (or was held back), for the app's list. */
      readonly record: (notice: Notice, shown: boolean) => void;
      readonly open: (target: NavigationTarget) => void;
      readonly coalesceMs?: number;
    },
  ) {}

  push(notice: Notice): void {
    if (this.seen.includes(notice.key)) return;
    this.seen.push(notice.key);
    if (this.seen.length > REMEMBERED_KEYS) this.seen.shift();
    this.queue.push(notice);
    this.cancelFlush ??= this.deps.clock.setTimer(() => {
      this.flush();
    }, this.deps.coalesceMs ?? 800);
  }

  /** Sends what is queued now (also called on shutdown). */
  flush(): void {
    this.cancelFlush?.();
    this.cancelFlush = null;
    const queued = this.queue;
    this.queue = [];
    const byKind = new Map<NoticeKind, Notice[]>();
    for (const notice of queued) byKind.set(notice.kind, [...(byKind.get(notice.kind) ?? []), notice]);
    for (const [kind, notices] of byKind) {
      const [only] = notices;
      const outgoing: Notice =
        notices.length === 1 && only
          ? only
          : { key: `summary:${kind}:${this.deps.clock.now()}`, kind, ...SUMMARIES[kind](notices.length) };
      const shown = !this.deps.doNotDisturb();
      if (shown)
        this.deps.notifier.show(outgoing, (target) => {
          this.deps.open(target);
        });
      this.deps.record(outgoing, shown);
    }
  }

  stop(): void {
    this.cancelFlush?.();
    this.cancelFlush = null;
    this.queue = [];
  }
}
