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
  /** A grant ended and its credential could not be removed from the keychain. */
  | 'credential-kept'
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
  // Summaries say only what holds for every notice they stand for: whether a credential reached the
  // keychain, or left it, is each notice's own news.
  activated: (count) => ({
    title: `${count} grants are active`,
    body: 'See them in My access.',
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
    body: 'None of their credentials is left in your keychain.',
    target: { view: 'access' },
  }),
  'credential-kept': (count) => ({
    title: `${count} ended grants left credentials in your keychain`,
    body: 'Timebox could not remove them; it removes them as soon as the keychain lets it.',
    target: { view: 'access' },
  }),
  'session-ended': () => ({
    title: 'Sign in to Timebox again',
    body: 'Your session has ended.',
    target: { view: 'sign-in' },
  }),
};

const REMEMBERED_KEYS = 1000;

interface BurstWindow {
  readonly cancel: () => void;
  /** Notices of the kind that arrived while the window was open, for its summary. */
  readonly held: Notice[];
}

/**
 * Decides what reaches the desktop: each event once (by key), nothing while do-not-disturb is on (the
 * notice is still recorded for the app to show), and bursts coalesced. The first notice of a kind goes
 * out at once, so the news is never late; it opens a short window in which more of that kind are held
 * and then sent as one summary (or as themselves, if only one came), and a window that sent something
 * opens another, so a long burst gives one notification per window. A click opens the notice's view.
 */
export class NotificationPolicy {
  private readonly seen: string[] = [];
  private readonly windows = new Map<NoticeKind, BurstWindow>();

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
    const window = this.windows.get(notice.kind);
    if (window) {
      window.held.push(notice);
      return;
    }
    this.send(notice.kind, [notice]);
    this.openWindow(notice.kind);
  }

  /** Sends what is held now and closes every window (also called on shutdown). */
  flush(): void {
    for (const [kind, window] of [...this.windows]) {
      window.cancel();
      this.windows.delete(kind);
      if (window.held.length > 0) this.send(kind, window.held);
    }
  }

  stop(): void {
    for (const window of this.windows.values()) window.cancel();
    this.windows.clear();
  }

  private openWindow(kind: NoticeKind): void {
    const cancel = this.deps.clock.setTimer(() => {
      const window = this.windows.get(kind);
      this.windows.delete(kind);
      if (!window || window.held.length === 0) return;
      this.send(kind, window.held);
      this.openWindow(kind);
    }, this.deps.coalesceMs ?? 800);
    this.windows.set(kind, { cancel, held: [] });
  }

  private send(kind: NoticeKind, notices: readonly Notice[]): void {
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
