import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  MAIN_SIZE,
  POPOVER_IDLE_RELEASE_MS,
  POPOVER_SIZE,
  popoverPosition,
  Windows,
} from '../../main/electron/windows.js';
import { ManualClock } from '../support/manual-clock.js';
import { FakeBrowserWindow } from './mocks/electron.js';
import { recordingLog } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const WORK_AREA = { x: 0, y: 25, width: 1440, height: 875 };

function setUp(trayBounds = { x: 1200, y: 0, width: 22, height: 24 }) {
  const clock = new ManualClock();
  const created: FakeBrowserWindow[] = [];
  const cursor = { x: 700, y: 880 };
  const windows = new Windows({
    createWindow: (options) => {
      const window = new FakeBrowserWindow(options);
      created.push(window);
      return window;
    },
    screen: {
      getDisplayNearestPoint: () => ({ workArea: WORK_AREA }),
      getCursorScreenPoint: () => cursor,
    },
    trayBounds: () => trayBounds,
    clock,
    preload: '/app/out/preload/index.cjs',
    devTools: false,
    icon: '/app/resources/icon.png',
    log: recordingLog(),
  });
  return { windows, clock, created };
}

let world: ReturnType<typeof setUp>;
beforeEach(() => {
  world = setUp();
});

describe('the popover', () => {
  it('is made on first need: frameless, at the tray, on our page, with the secure preferences', () => {
    expect(world.created).toHaveLength(0);
    world.windows.togglePopover();
    const [popover] = world.created;
    expect(popover?.options).toMatchObject({
      ...POPOVER_SIZE,
      frame: false,
      resizable: false,
      skipTaskbar: true,
      show: false,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
    });
    expect(popover?.loadURL).toHaveBeenCalledWith('app://timebox/index.html?window=popover');
    expect(popover?.isVisible()).toBe(true);
    // Centred under the icon; just below the menu bar (the work area starts under it).
    expect(popover?.setPosition).toHaveBeenCalledWith(1211 - 190, WORK_AREA.y + 6);
  });

  it('hides on blur, and a tray click that caused the blur does not bring it back', () => {
    world.windows.togglePopover();
    const popover = world.created[0];
    popover?.emit('blur');
    expect(popover?.isVisible()).toBe(false);
    world.windows.togglePopover();
    expect(popover?.isVisible()).toBe(false);
    world.clock.advance(1000);
    world.windows.togglePopover();
    expect(popover?.isVisible()).toBe(true);
    world.windows.togglePopover();
    expect(popover?.isVisible()).toBe(false);
    expect(world.created).toHaveLength(1);
  });

  it('is released after five hidden minutes, and made again when next needed', () => {
    world.windows.togglePopover();
    const first = world.created[0];
    first?.emit('blur');
    world.clock.advance(POPOVER_IDLE_RELEASE_MS - 1);
    expect(first?.isDestroyed()).toBe(false);
    world.clock.advance(1);
    expect(first?.isDestroyed()).toBe(true);
    expect(world.windows.owns(first?.webContents ?? { id: -1 })).toBe(false);
    world.windows.togglePopover();
    expect(world.created).toHaveLength(2);
  });

  it('is not released while it is shown again in time', () => {
    world.windows.togglePopover();
    const popover = world.created[0];
    popover?.emit('blur');
    world.clock.advance(POPOVER_IDLE_RELEASE_MS - 1000);
    world.windows.togglePopover();
    world.clock.advance(POPOVER_IDLE_RELEASE_MS);
    expect(popover?.isDestroyed()).toBe(false);
  });

  it('opens above a tray at the bottom of the screen (the Windows taskbar)', () => {
    world = setUp({ x: 1300, y: 870, width: 24, height: 30 });
    world.windows.togglePopover();
    expect(world.created[0]?.setPosition).toHaveBeenCalledWith(
      WORK_AREA.width - POPOVER_SIZE.width - 6,
      870 - POPOVER_SIZE.height - 6,
    );
  });

  it('opens at the cursor where the tray does not say where it is (Linux)', () => {
    world = setUp({ x: 0, y: 0, width: 0, height: 0 });
    world.windows.togglePopover();
    expect(world.created[0]?.setPosition).toHaveBeenCalledWith(700 - 190, 880 - POPOVER_SIZE.height - 6);
  });
});

describe('popover placement', () => {
  it('stays inside the work area', () => {
    expect(popoverPosition({ x: 2, y: 0, width: 20, height: 20 }, POPOVER_SIZE, WORK_AREA)).toEqual({
      x: 6,
      y: WORK_AREA.y + 6,
    });
  });
});

describe('the main window', () => {
  it('is made on first need, at dashboard size, on our page, with the secure preferences', () => {
    const main = world.windows.showMain();
    expect(world.created).toHaveLength(1);
    expect(world.created[0]?.options).toMatchObject({
      ...MAIN_SIZE,
      webPreferences: { contextIsolation: true, sandbox: true, nodeIntegration: false },
    });
    expect(world.created[0]?.loadURL).toHaveBeenCalledWith('app://timebox/index.html?window=main');
    expect(main.isVisible()).toBe(true);
    expect(world.windows.showMain()).toBe(main);
    expect(world.created).toHaveLength(1);
  });

  it('is made afresh after it was closed', () => {
    world.windows.showMain();
    world.created[0]?.destroy();
    world.windows.showMain();
    expect(world.created).toHaveLength(2);
  });
});

describe('navigation targets', () => {
  it('open the popover for its own view and the main window for every other', () => {
    const popover = world.windows.showFor({ view: 'popover' });
    const main = world.windows.showFor({ view: 'approvals', requestId: 'req_0123456789abcdefghjk' });
    expect(world.windows.showFor({ view: 'settings' })).toBe(main);
    expect(popover).not.toBe(main);
    expect(world.windows.owns(popover.webContents)).toBe(true);
    expect(world.windows.owns(main.webContents)).toBe(true);
    expect(world.windows.owns({ id: 999_999 })).toBe(false);
  });
});
