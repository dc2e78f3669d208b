import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { INVOKE_METHODS, invokeChannel, PUSH_CHANNELS, type InvokeMethod } from '../../preload/channels.js';
import type { AppState } from '../../preload/contract.js';
import { createHandlers } from '../../main/core/ipc-handlers.js';
import type { TimeboxCore } from '../../main/core/timebox.js';
import { UserError } from '../../api/errors.js';
import { refuseStrayMessages, registerIpc, type InvokeEvent } from '../../main/electron/ipc.js';
import { RendererPushes, type RendererContents } from '../../main/electron/renderer-pushes.js';
import { FakeClipboard, FakeIpcMain, FakeWebContents } from './mocks/electron.js';
import { GRANT_ID, pendingRequest, recordingLog, REQUEST_ID, testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const OUR_PAGE = 'app://timebox/index.html?window=main';
const KEY = '1b4e28ba-2fa1-41d2-883f-0016d3cca427';

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
      authMethods: { provider: 'acme' },
      signInWithProvider: { provider: '../acme' },
      signIn: { username: 'alice' },
      signOut: { everywhere: true },
      refresh: 'now',
      requestAccess: {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 600,
        reason: '',
        idempotencyKey: 'click-1',
      },
      previewRequest: { resourceId: 'prod-db', role: 'read', durationSeconds: 600 },
      approve: { requestId: 'req_nope' },
      deny: { requestId: REQUEST_ID },
      cancelRequest: { requestId: 42 },
      extendGrant: { grantId: GRANT_ID, durationSeconds: -5, reason: '', idempotencyKey: KEY },
      relinquishGrant: { grantId: GRANT_ID, force: true },
      copyCredential: { grantId: GRANT_ID, part: 'password' },
      copyConnectionUri: { grantId: 'grt_nope' },
      openPsql: { grantId: GRANT_ID, argv: ['-c', 'DROP TABLE orders'] },
      revealCredential: {},
      seatPoolUtilization: { period: 'forever' },
      insights: { period: 'forever' },
      updateSettings: { serviceUrl: 'ftp://timebox.example.com' },
      unlockKeychain: { collection: 'login' },
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

  describe('messages sent outside any call (ipcRenderer.send, sendSync)', () => {
    it('are logged with their channel (never their arguments) and touch nothing', () => {
      refuseStrayMessages(world.ours, world.log);
      world.ours.emit('ipc-message', { returnValue: undefined }, 'timebox:invoke:signOut', 'SECRET-ARG');
      world.ours.emit('ipc-message', { returnValue: undefined }, `evil:${'x'.repeat(500)}`);
      expect(world.log.entries).toEqual([
        {
          level: 'warn',
          message: 'refused an IPC message on a channel outside the contract',
          details: { kind: 'send', channel: 'timebox:invoke:signOut', senderId: world.ours.id },
        },
        {
          level: 'warn',
          message: 'refused an IPC message on a channel outside the contract',
          details: { kind: 'send', channel: `evil:${'x'.repeat(95)}`, senderId: world.ours.id },
        },
      ]);
      expect(JSON.stringify(world.log.entries)).not.toContain('SECRET-ARG');
      world.untouched();
    });

    it('a sendSync gets the refusal as its answer, so the page does not hang', () => {
      refuseStrayMessages(world.ours, world.log);
      const event: { returnValue: unknown } = { returnValue: undefined };
      world.ours.emit('ipc-message-sync', event, 'electron-store-get-data');
      expect(event.returnValue).toEqual({
        ok: false,
        error: { code: 'unknown_channel', message: 'Timebox answers its own calls only.' },
      });
      expect(world.log.entries).toEqual([
        {
          level: 'warn',
          message: 'refused an IPC message on a channel outside the contract',
          details: { kind: 'sendSync', channel: 'electron-store-get-data', senderId: world.ours.id },
        },
      ]);
      world.untouched();
    });

    it('calls through the contract are not logged as stray', async () => {
      refuseStrayMessages(world.ours, world.log);
      world.spies.cancelRequest?.mockResolvedValue(pendingRequest(0));
      await world.ipcMain.invoke(invokeChannel('cancelRequest'), world.event(), { requestId: REQUEST_ID });
      expect(world.log.entries).toEqual([]);
    });
  });

  it('unregisters every handler', () => {
    world.unregister();
    expect(world.ipcMain.handlers.size).toBe(0);
  });
});
