import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { INVOKE_METHODS, invokeChannel, PUSH_CHANNELS } from '../../preload/channels.js';
import type { NavigationTarget, StateUpdate, TimeboxApi } from '../../preload/contract.js';
import { electronMock } from './mocks/electron.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

let api: TimeboxApi;

beforeAll(async () => {
  await import('../../preload/index.js');
  const [call] = electronMock.contextBridge.exposeInMainWorld.mock.calls;
  expect(call?.[0]).toBe('timebox');
  api = call?.[1] as TimeboxApi;
});

describe('the preload', () => {
  it('exposes exactly the contract: one function per method, and the two subscriptions', () => {
    expect(electronMock.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    expect(Object.keys(api).sort()).toEqual([...INVOKE_METHODS, 'onNavigate', 'onState'].sort());
  });

  it('calls each method with invoke on its own channel, with the arguments as given', async () => {
    for (const method of INVOKE_METHODS) {
      electronMock.ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: method });
      const call = api[method] as (args: unknown) => Promise<unknown>;
      await expect(call({ probe: method })).resolves.toEqual({ ok: true, value: method });
      expect(electronMock.ipcRenderer.invoke).toHaveBeenLastCalledWith(invokeChannel(method), {
        probe: method,
      });
    }
  });

  it('hands listeners the payload alone, and each unsubscribe removes exactly its own listener', () => {
    const first: StateUpdate[] = [];
    const second: StateUpdate[] = [];
    const stopFirst = api.onState((update) => first.push(update));
    api.onState((update) => second.push(update));
    const update: StateUpdate = { kind: 'change', changes: { clockOffsetMs: 5 } };
    electronMock.ipcRenderer.emit(PUSH_CHANNELS.state, { sender: 'not for the page' }, update);
    stopFirst();
    stopFirst();
    electronMock.ipcRenderer.emit(PUSH_CHANNELS.state, {}, update);
    expect(first).toEqual([update]);
    expect(second).toEqual([update, update]);
    expect(electronMock.ipcRenderer.listenerCount(PUSH_CHANNELS.state)).toBe(1);
  });

  it('delivers navigation requests the same way', () => {
    const targets: NavigationTarget[] = [];
    const stop = api.onNavigate((target) => targets.push(target));
    electronMock.ipcRenderer.emit(PUSH_CHANNELS.navigate, {}, { view: 'settings' });
    stop();
    electronMock.ipcRenderer.emit(PUSH_CHANNELS.navigate, {}, { view: 'approvals' });
    expect(targets).toEqual([{ view: 'settings' }]);
    expect(electronMock.ipcRenderer.listenerCount(PUSH_CHANNELS.navigate)).toBe(0);
  });

  it('imports only types from the contract, so the sandboxed bundle carries no zod', () => {
    const source = readFileSync(new URL('../../preload/index.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import (type )?[^;]+from '([^']+)'/gm)].map(([, type, from]) => ({
      from,
      typeOnly: type !== undefined,
    }));
    expect(imports).toEqual([
      { from: 'electron', typeOnly: false },
      { from: './channels.js', typeOnly: false },
      { from: './contract.js', typeOnly: true },
    ]);
  });
});
