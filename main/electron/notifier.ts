import type { NotificationConstructorOptions } from 'electron';
import type { NavigationTarget } from '../../preload/contract.js';
import type { Notice, Notifier } from '../core/notifications.js';
import type { CoreLogger } from '../core/timebox.js';

/** The part of an Electron Notification the notifier uses. */
export interface DesktopNotification {
  on(event: 'click' | 'close' | 'failed', listener: () => void): unknown;
  on(event: 'action', listener: (details: { readonly actionIndex: number }) => void): unknown;
  show(): void;
}

export interface NotificationApi {
  isSupported(): boolean;
  create(options: NotificationConstructorOptions): DesktopNotification;
}

/** More than this many unanswered notifications: the oldest is let go (its click is lost, not leaked). */
const LIVE_LIMIT = 50;

/**
 * The core's notices as desktop notifications. Each live one stays referenced until it closes: a
 * notification that is garbage-collected loses its click handler (Mattermost keeps them in a map for the
 * same reason). A click opens the notice's view; where the platform has action buttons (macOS and
 * Windows; Linux's notification servers vary), a notice's action (Extend…) becomes one.
 */
export class ElectronNotifier implements Notifier {
  /** Notifications on screen or in the notification centre, by notice key. */
  readonly live = new Map<string, DesktopNotification>();

  constructor(
    private readonly deps: {
      readonly api: NotificationApi;
      readonly platform: NodeJS.Platform;
      /** The app icon (Linux and Windows show it; macOS uses the app's). */
      readonly icon: string;
      readonly log: CoreLogger;
    },
  ) {}

  show(notice: Notice, onClick: (target: NavigationTarget) => void): void {
    const action = this.deps.platform === 'linux' ? undefined : notice.action;
    this.display(
      notice.key,
      {
        title: notice.title,
        body: notice.body,
        ...(action ? { actions: [{ type: 'button', text: action.label }] } : {}),
      },
      () => {
        onClick(notice.target);
      },
      action
        ? () => {
            onClick(action.target);
          }
        : undefined,
    );
  }

  /** A message of the app's own (a tray command that failed), outside the core's notices. */
  alert(key: string, title: string, body: string, onClick: () => void): void {
    this.display(key, { title, body }, onClick, undefined);
  }

  private display(
    key: string,
    options: NotificationConstructorOptions,
    onClick: () => void,
    onAction: (() => void) | undefined,
  ): void {
    if (!this.deps.api.isSupported()) {
      this.deps.log.warn({ key }, 'this desktop shows no notifications; the notice stays in the app');
      return;
    }
    const notification = this.deps.api.create({ ...options, icon: this.deps.icon });
    const release = (): void => {
      if (this.live.get(key) === notification) this.live.delete(key);
    };
    notification.on('click', () => {
      release();
      onClick();
    });
    notification.on('action', () => {
      release();
      (onAction ?? onClick)();
    });
    notification.on('close', release);
    notification.on('failed', () => {
      release();
      this.deps.log.warn({ key }, 'the desktop refused a notification');
    });
    this.live.set(key, notification);
    const oldest = this.live.keys().next();
    if (this.live.size > LIVE_LIMIT && !oldest.done) this.live.delete(oldest.value);
    notification.show();
  }
}
