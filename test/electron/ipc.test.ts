import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INVOKE_METHODS, invokeChannel, PUSH_CHANNELS, type InvokeMethod } from '../../preload/channels.js';
import type { AppState } from '../../preload/contract.js';
import { createHandlers } from '../../main/core/ipc-handlers.js';
import type { TimeboxCore } from '../../main/core/timebox.js';
import { UserError } from '../../main/core/errors.js';
import { registerIpc, type InvokeEvent } from '../../main/electron/ipc.js';
import { RendererPushes, type RendererContents } from '../../main/electron/renderer-pushes.js';
import { FakeClipboard, FakeIpcMain, FakeWebContents } from './mocks/electron.js';
import { GRANT_ID, pendingRequest, recordingLog, REQUEST_ID, testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const OUR_PAGE = 'app://timebox/index.html?window=main';

/** The core's commands, each replaced by a spy: a refused call must reach none of them. */
const CORE_METHODS = [
  'signIn',
  'signOut',
  'refresh',
  'requestAccess',
  'approve',
  'deny',
  'cancelRequest',
  'extendGrant',
  'relinquishGrant',
  'credential',
  'updateSettings',
] as const satisfies readonly (keyof TimeboxCore)[];

function setUp() {
  const { core, clock } = testCore();
  const spies = Object.fromEntries(
    CORE_METHODS.map((method) => [method, vi.spyOn(core, method).mockRejectedValue(new Error('spied'))]),
  );
  const log = recordingLog();
  const ipcMain = new FakeIpcMain();
  const ours = new FakeWebContents();
  const pushes = new RendererPushes(core.store);
  const clipboard = new FakeClipboard();
  const openExternal = vi.fn(() => Promise.resolve());
  const rendererReady = vi.fn((contents: RendererContents) => {
    pushes.rendererReady(contents);
  });
  const handlers = createHandlers({
    core,
    clipboard,
    clock,
    log,
    openExternal,
    externalHosts: [],
    rendererReady,
  });
  const unregister = registerIpc({
    ipcMain,
    handlers,
    isOurContents: (contents) => contents.id === ours.id,
    log,
  });
  const event = (overrides: Partial<InvokeEvent> = {}): InvokeEvent => ({
    sender: ours,
    senderFrame: { url: OUR_PAGE, parent: null },
    ...overrides,
  });
  const untouched = (): void => {
    for (const spy of Object.values(spies)) expect(spy).not.toHaveBeenCalled();
    expect(openExternal).not.toHaveBeenCalled();
    expect(rendererReady).not.toHaveBeenCalled();
    expect(ours.send).not.toHaveBeenCalled();
    expect(clipboard.text).toBe('');
  };
  return { core, spies, log, ipcMain, ours, event, untouched, unregister };
}

let world: ReturnType<typeof setUp>;
beforeEach(() => {
  world = setUp();
});
afterEach(() => {
  world.unregister();
});

describe('the IPC wrapper', () => {
  it('registers a handler for exactly the contract’s methods', () => {
    expect([...world.ipcMain.handlers.keys()].sort()).toEqual(INVOKE_METHODS.map(invokeChannel).sort());
  });

  it('has no handler for a channel outside the contract', async () => {
    await expect(world.ipcMain.invoke('timebox:invoke:runShell', world.event(), {})).rejects.toThrow(
      /No handler registered/,
    );
    await expect(world.ipcMain.invoke('timebox:invoke:constructor', world.event(), {})).rejects.toThrow(
      /No handler registered/,
    );
    world.untouched();
  });

  it('passes a well-formed call from our window to the core, parsed', async () => {
    const request = pendingRequest(world.core.store.state.clockOffsetMs);
    world.spies.approve?.mockResolvedValue(request);
    const result = await world.ipcMain.invoke(invokeChannel('approve'), world.event(), {
      requestId: REQUEST_ID,
    });
    expect(result).toEqual({ ok: true, value: request });
    expect(world.spies.approve).toHaveBeenCalledWith({ requestId: REQUEST_ID });
  });

  it('turns a failure into an error value, never an exception', async () => {
    world.spies.refresh?.mockRejectedValue(new UserError('no_service', 'Enter the URL of your service.'));
    await expect(world.ipcMain.invoke(invokeChannel('refresh'), world.event(), {})).resolves.toEqual({
      ok: false,
      error: { code: 'no_service', message: 'Enter the URL of your service.' },
    });
  });

  describe('refuses, logs, and changes nothing for', () => {
    const foreign = new FakeWebContents();
    const senders: readonly [string, () => InvokeEvent, string][] = [
      [
        'a WebContents that is not one of our windows',
        () => world.event({ sender: foreign }),
        'app://timebox',
      ],
      [
        'a frame inside our window',
        () => world.event({ senderFrame: { url: OUR_PAGE, parent: {} } }),
        'app://timebox',
      ],
      [
        'our window showing another page',
        () => world.event({ senderFrame: { url: 'https://evil.example/app', parent: null } }),
        'https://evil.example',
      ],
      [
        'our window showing a file',
        () => world.event({ senderFrame: { url: 'file:///etc/passwd', parent: null } }),
        'file://',
      ],
      ['a frame that is gone', () => world.event({ senderFrame: null }), 'gone'],
    ];
    for (const [name, event, frame] of senders) {
      it(name, async () => {
        const sent = event();
        const result = await world.ipcMain.invoke(invokeChannel('relinquishGrant'), sent, {
          grantId: GRANT_ID,
        });
        expect(result).toMatchObject({ ok: false, error: { code: 'forbidden_sender' } });
        expect(world.log.entries).toEqual([
          {
            level: 'warn',
            message: 'refused an IPC call from outside a Timebox window',
            details: { method: 'relinquishGrant', senderId: sent.sender.id, frame },
          },
        ]);
        world.untouched();
      });
    }

    it('a call with extra arguments', async () => {
      const result = await world.ipcMain.invoke(
        invokeChannel('relinquishGrant'),
        world.event(),
        { grantId: GRANT_ID },
        'second',
      );
      expect(result).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
      expect(world.log.warnings()).toContain('refused an IPC call with extra arguments');
      world.untouched();
    });
  });

  describe('refuses arguments of the wrong shape, before the core is touched, for', () => {
    const wrongShapes: Readonly<Record<InvokeMethod, unknown>> = {
      rendererReady: { extra: true },
      signIn: { username: 'alice' },
      signOut: { everywhere: true },
      refresh: 'now',
      requestAccess: { resourceId: 'Prod DB!', role: 'read', durationSeconds: 600, reason: '' },
      approve: { requestId: 'req_nope' },
      deny: { requestId: REQUEST_ID },
      cancelRequest: { requestId: 42 },
      extendGrant: { grantId: GRANT_ID, durationSeconds: -5, reason: '' },
      relinquishGrant: { grantId: GRANT_ID, force: true },
      copyCredential: { grantId: GRANT_ID, part: 'password' },
      revealCredential: {},
      updateSettings: { serviceUrl: 'ftp://timebox.example.com' },
      openExternal: { url: 'http://timebox.example.com/docs' },
    };
    for (const method of INVOKE_METHODS) {
      it(method, async () => {
        const result = await world.ipcMain.invoke(invokeChannel(method), world.event(), wrongShapes[method]);
        expect(result).toMatchObject({ ok: false, error: { code: 'invalid_arguments' } });
        expect(world.log.entries).toHaveLength(1);
        expect(world.log.entries[0]).toMatchObject({
          level: 'warn',
          message: 'refused an IPC call with invalid arguments',
          details: { method },
        });
        world.untouched();
      });
    }
  });

  it('answers rendererReady with the snapshot to the window that asked, then its changes', async () => {
    await expect(world.ipcMain.invoke(invokeChannel('rendererReady'), world.event(), {})).resolves.toEqual({
      ok: true,
      value: null,
    });
    expect(world.ours.send).toHaveBeenCalledTimes(1);
    expect(world.ours.send).toHaveBeenLastCalledWith(PUSH_CHANNELS.state, {
      kind: 'snapshot',
      state: world.core.store.state,
    });
    const changes: Partial<AppState> = { clockOffsetMs: 1500 };
    world.core.store.update(changes);
    expect(world.ours.send).toHaveBeenLastCalledWith(PUSH_CHANNELS.state, { kind: 'change', changes });
  });

  it('unregisters every handler', () => {
    world.unregister();
    expect(world.ipcMain.handlers.size).toBe(0);
  });
});
