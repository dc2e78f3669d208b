import { join } from 'node:path';
import type { MenuItemConstructorOptions } from 'electron';
import type { AppState, KeychainUnlockResult, NavigationTarget } from '../../preload/contract.js';
import type { DesktopClock } from '../core/clock.js';
import { UserError } from '../../api/errors.js';
import { trayModel, type TrayCommand, type TrayIcon, type TrayMenuItem } from '../core/tray-model.js';

/** The part of a Tray the view uses; Image and Menu are Electron's NativeImage and Menu in the app. */
export interface TrayHandle<Image, Menu> {
  setImage(image: Image): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu | null): void;
  popUpContextMenu(menu?: Menu): void;
  on(event: 'click' | 'right-click', listener: () => void): unknown;
  destroy(): void;
}

/**
 * The tray's images for this platform, from resources/tray. macOS gets template images (black and
 * alpha; the menu bar tints them for light and dark, https://www.electronjs.org/docs/latest/api/native-image#template-image);
 * Windows and Linux get coloured ones. Each loader call also finds the @2x file beside the 1x one.
 */
export function loadTrayIcons<Image extends { setTemplateImage(template: boolean): void }>(
  platform: NodeJS.Platform,
  directory: string,
  load: (path: string) => Image,
): Readonly<Record<TrayIcon, Image>> {
  const template = platform === 'darwin';
  const image = (icon: TrayIcon): Image => {
    const loaded = load(join(directory, `${icon}${template ? 'Template' : ''}.png`));
    if (template) loaded.setTemplateImage(true);
    return loaded;
  };
  return { idle: image('idle'), active: image('active'), attention: image('attention') };
}

/** The tray model's menu as Electron's menu template, each command wired to `run`. */
export function menuTemplate(
  items: readonly TrayMenuItem[],
  run: (command: TrayCommand) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    switch (item.kind) {
      case 'separator':
        return { type: 'separator' };
      case 'submenu':
        return { label: item.label, submenu: menuTemplate(item.items, run) };
      case 'item': {
        const { command } = item;
        return {
          label: item.label,
          enabled: item.enabled,
          ...(command
            ? {
                click: () => {
                  run(command);
                },
              }
            : {}),
        };
      }
    }
  });
}

const MINUTE_MS = 60_000;

/**
 * When the tray must be drawn again though nothing changed in the state: each minute while a grant is
 * active (the time left in the menu and tooltip), and exactly when the nearest grant enters its last
 * minute (the tray model's attention icon). null: no grant is active, nothing moves.
 */
export function nextRefreshMs(state: AppState, localNow: number): number | null {
  const serviceNow = localNow + state.clockOffsetMs;
  const remaining = state.grants
    .filter((grant) => grant.status === 'active')
    .map((grant) => Date.parse(grant.expiresAt) - serviceNow)
    .filter((ms) => ms > 0);
  if (remaining.length === 0) return null;
  const untilLastMinute = Math.min(...remaining) - MINUTE_MS;
  return untilLastMinute > 0 ? Math.min(MINUTE_MS, untilLastMinute) : MINUTE_MS;
}

export interface TrayViewDeps<Image, Menu> {
  readonly tray: TrayHandle<Image, Menu>;
  readonly icons: Readonly<Record<TrayIcon, Image>>;
  readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu;
  readonly store: { readonly state: AppState; subscribe(listener: () => void): () => void };
  readonly clock: DesktopClock;
  readonly platform: NodeJS.Platform;
  readonly run: (command: TrayCommand) => void;
  /** A left click on the icon, where the platform reports one. */
  readonly onClick: () => void;
}

/**
 * Draws the tray from the state: icon, tooltip and menu, again on every change and on the clock. There is
 * always a context menu, because a click on a Linux tray icon often never arrives
 * (https://github.com/electron/electron/issues/21008): everything is reachable from the menu. A left click
 * opens the popover where clicks work. On macOS a context menu set on the tray would take the left click
 * too, so there the menu pops up on right click instead.
 */
export class TrayView<Image, Menu> {
  private menu: Menu | null = null;
  private drawn: { icon: TrayIcon; tooltip: string; menu: string } | null = null;
  private unsubscribe: (() => void) | null = null;
  private cancelRefresh: (() => void) | null = null;

  constructor(private readonly deps: TrayViewDeps<Image, Menu>) {}

  start(): void {
    const { tray, platform } = this.deps;
    tray.on('click', () => {
      this.deps.onClick();
    });
    if (platform === 'darwin') {
      tray.on('right-click', () => {
        if (this.menu) tray.popUpContextMenu(this.menu);
      });
    }
    this.unsubscribe = this.deps.store.subscribe(() => {
      this.render();
    });
    this.render();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.cancelRefresh?.();
    this.cancelRefresh = null;
    this.deps.tray.destroy();
  }

  private render(): void {
    const { tray, clock } = this.deps;
    const state = this.deps.store.state;
    const model = trayModel(state, clock.now());
    const menuKey = JSON.stringify(model.menu);
    if (this.drawn?.icon !== model.icon) tray.setImage(this.deps.icons[model.icon]);
    if (this.drawn?.tooltip !== model.tooltip) tray.setToolTip(model.tooltip);
    if (this.drawn?.menu !== menuKey) {
      this.menu = this.deps.buildMenu(menuTemplate(model.menu, this.deps.run));
      if (this.deps.platform !== 'darwin') tray.setContextMenu(this.menu);
    }
    this.drawn = { icon: model.icon, tooltip: model.tooltip, menu: menuKey };

    this.cancelRefresh?.();
    this.cancelRefresh = null;
    const delay = nextRefreshMs(state, clock.now());
    if (delay !== null) {
      this.cancelRefresh = clock.setTimer(() => {
        this.cancelRefresh = null;
        this.render();
      }, delay);
    }
  }
}

/** What each tray command does, through the same handlers the windows call. */
export function trayCommands(deps: {
  readonly navigate: (target: NavigationTarget) => void;
  readonly copyCredential: (grantId: string) => Promise<unknown>;
  readonly copyConnectionUri: (grantId: string) => Promise<unknown>;
  readonly openPsql: (grantId: string) => Promise<unknown>;
  readonly relinquishGrant: (grantId: string) => Promise<unknown>;
  readonly unlockKeychain: () => Promise<KeychainUnlockResult>;
  readonly quit: () => void;
  /** A command that failed: the tray has no window to say so in. */
  readonly report: (title: string, error: unknown) => void;
}): (command: TrayCommand) => void {
  return (command) => {
    switch (command.kind) {
      case 'open':
        deps.navigate(command.target);
        return;
      case 'copy':
        deps.copyCredential(command.grantId).catch((error: unknown) => {
          deps.report('Could not copy the credential', error);
        });
        return;
      case 'copy-uri':
        deps.copyConnectionUri(command.grantId).catch((error: unknown) => {
          deps.report('Could not copy the connection URI', error);
        });
        return;
      case 'psql':
        deps.openPsql(command.grantId).catch((error: unknown) => {
          deps.report('Could not open psql', error);
        });
        return;
      case 'relinquish':
        deps.relinquishGrant(command.grantId).catch((error: unknown) => {
          deps.report('Could not relinquish the grant', error);
        });
        return;
      case 'unlock-keychain':
        // Unlocked shows by itself (the locked item goes, kept credentials are removed); anything else is
        // said, since the tray has no window to say it in.
        deps
          .unlockKeychain()
          .then((result) => {
            if (result.outcome !== 'unlocked')
              deps.report(
                'Keychain still locked',
                new UserError(`keychain_${result.outcome.replaceAll('-', '_')}`, result.message),
              );
          })
          .catch((error: unknown) => {
            deps.report('Could not ask to unlock the keychain', error);
          });
        return;
      case 'quit':
        deps.quit();
        return;
    }
  };
}
