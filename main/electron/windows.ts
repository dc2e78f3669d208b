import type { BrowserWindowConstructorOptions, Point, Rectangle } from 'electron';
import type { NavigationTarget } from '../../preload/contract.js';
import type { DesktopClock } from '../core/clock.js';
import type { CoreLogger } from '../core/timebox.js';
import { appPageUrl, type WindowKind } from './app-protocol.js';
import type { RendererContents } from './renderer-pushes.js';
import { secureWebPreferences } from './security.js';

/** The part of a BrowserWindow the window manager uses. */
export interface AppWindow {
  readonly webContents: RendererContents;
  loadURL(url: string): Promise<void>;
  show(): void;
  hide(): void;
  focus(): void;
  destroy(): void;
  isVisible(): boolean;
  isDestroyed(): boolean;
  setPosition(x: number, y: number): void;
  on(event: 'blur' | 'show' | 'hide' | 'closed', listener: () => void): unknown;
}

export interface WindowDeps {
  readonly createWindow: (options: BrowserWindowConstructorOptions) => AppWindow;
  readonly screen: {
    getDisplayNearestPoint(point: Point): { readonly workArea: Rectangle };
    getCursorScreenPoint(): Point;
  };
  /** Where the tray icon is now (all zeros where the platform does not say: Linux). */
  readonly trayBounds: () => Rectangle;
  readonly clock: DesktopClock;
  readonly preload: string;
  readonly devTools: boolean;
  /** The window icon (Linux shows it; macOS and Windows take the app's). */
  readonly icon: string;
  readonly log: CoreLogger;
}

export const POPOVER_SIZE = { width: 380, height: 560 } as const;
export const MAIN_SIZE = { width: 980, height: 700 } as const;
/** A popover hidden this long is destroyed; the next click makes a new one. */
export const POPOVER_IDLE_RELEASE_MS = 5 * 60_000;
/**
 * A tray click arriving this soon after the popover hid on blur is the same gesture (the click on the tray
 * took the focus away): it closes the popover rather than opening it again.
 */
const SAME_GESTURE_MS = 300;
const GAP = 6;
/** Behind the page while it loads, so a window never flashes white in dark mode. */
const BACKGROUND = '#1d2230';

/**
 * Where the popover goes: centred on the tray icon, below it when the icon is in the top half of its
 * display (macOS menu bar, top panels), above it otherwise (Windows taskbar), kept inside the work area.
 * With no icon bounds (Linux), the cursor stands in for the icon: the user just clicked there.
 */
export function popoverPosition(
  anchor: Rectangle,
  size: { readonly width: number; readonly height: number },
  workArea: Rectangle,
): { x: number; y: number } {
  const below = anchor.y + anchor.height / 2 < workArea.y + workArea.height / 2;
  const x = Math.round(anchor.x + anchor.width / 2 - size.width / 2);
  const y = below ? anchor.y + anchor.height + GAP : anchor.y - size.height - GAP;
  const clamp = (value: number, low: number, high: number): number => Math.max(low, Math.min(value, high));
  return {
    x: clamp(x, workArea.x + GAP, workArea.x + workArea.width - size.width - GAP),
    y: clamp(y, workArea.y + GAP, workArea.y + workArea.height - size.height - GAP),
  };
}

/**
 * Our two windows, each made when first needed: the popover (frameless, at the tray, hidden on blur,
 * released after five idle minutes) and the main window (the dashboard). Both load the one app page.
 */
export class Windows {
  private popover: AppWindow | null = null;
  private main: AppWindow | null = null;
  private cancelRelease: (() => void) | null = null;
  private popoverHiddenOnBlurAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly deps: WindowDeps) {}

  /** Whether `contents` is the WebContents of one of our windows. */
  owns(contents: { readonly id: number }): boolean {
    return [this.popover, this.main].some(
      (window) => window !== null && !window.isDestroyed() && window.webContents.id === contents.id,
    );
  }

  /** Shows the window a navigation belongs in: the popover for its own view, the main window for the rest. */
  showFor(target: NavigationTarget): AppWindow {
    return target.view === 'popover' ? this.showPopover() : this.showMain();
  }

  showMain(): AppWindow {
    const window = this.main ?? this.createMain();
    window.show();
    window.focus();
    return window;
  }

  showPopover(): AppWindow {
    const window = this.popover ?? this.createPopover();
    const anchor = this.anchor();
    const { workArea } = this.deps.screen.getDisplayNearestPoint({ x: anchor.x, y: anchor.y });
    const { x, y } = popoverPosition(anchor, POPOVER_SIZE, workArea);
    window.setPosition(x, y);
    window.show();
    window.focus();
    return window;
  }

  /** A click on the tray icon: opens the popover, or closes it when it is open. */
  togglePopover(): void {
    if (this.popover?.isVisible()) {
      this.popover.hide();
      return;
    }
    if (this.deps.clock.monotonic() - this.popoverHiddenOnBlurAt < SAME_GESTURE_MS) return;
    this.showPopover();
  }

  private anchor(): Rectangle {
    const bounds = this.deps.trayBounds();
    if (bounds.width > 0 && bounds.height > 0) return bounds;
    const cursor = this.deps.screen.getCursorScreenPoint();
    return { x: cursor.x, y: cursor.y, width: 0, height: 0 };
  }

  private createPopover(): AppWindow {
    const window = this.create('popover', {
      ...POPOVER_SIZE,
      frame: false,
      resizable: false,
      movable: false,
      minimizable: false,
      maximizable: false,
      fullscreenable: false,
      skipTaskbar: true,
      alwaysOnTop: true,
    });
    window.on('blur', () => {
      if (!window.isVisible()) return;
      this.popoverHiddenOnBlurAt = this.deps.clock.monotonic();
      window.hide();
    });
    window.on('hide', () => {
      this.cancelRelease?.();
      this.cancelRelease = this.deps.clock.setTimer(() => {
        this.cancelRelease = null;
        if (!window.isDestroyed()) window.destroy();
      }, POPOVER_IDLE_RELEASE_MS);
    });
    window.on('show', () => {
      this.cancelRelease?.();
      this.cancelRelease = null;
    });
    window.on('closed', () => {
      this.cancelRelease?.();
      this.cancelRelease = null;
      if (this.popover === window) this.popover = null;
    });
    this.popover = window;
    return window;
  }

  private createMain(): AppWindow {
    const window = this.create('main', {
      ...MAIN_SIZE,
      minWidth: 720,
      minHeight: 520,
      title: 'Timebox',
      autoHideMenuBar: true,
    });
    window.on('closed', () => {
      if (this.main === window) this.main = null;
    });
    this.main = window;
    return window;
  }

  private create(kind: WindowKind, options: BrowserWindowConstructorOptions): AppWindow {
    const window = this.deps.createWindow({
      ...options,
      show: false,
      backgroundColor: BACKGROUND,
      icon: this.deps.icon,
      webPreferences: secureWebPreferences({ preload: this.deps.preload, devTools: this.deps.devTools }),
    });
    window.loadURL(appPageUrl(kind)).catch((error: unknown) => {
      this.deps.log.warn(
        { window: kind, error: error instanceof Error ? error.message : String(error) },
        'a window did not load its page',
      );
    });
    return window;
  }
}
