import { describe, expect, it, vi } from 'vitest';
import { PUSH_CHANNELS } from '../../preload/channels.js';
import { RendererPushes } from '../../main/electron/renderer-pushes.js';
import { FakeWebContents } from './mocks/electron.js';
import { testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

function setUp() {
  const { core } = testCore();
  const subscribe = vi.spyOn(core.store, 'subscribe');
  return { store: core.store, subscribe, pushes: new RendererPushes(core.store) };
}

const statePushes = (contents: FakeWebContents) =>
  contents.send.mock.calls.filter(([channel]) => channel === PUSH_CHANNELS.state).map(([, update]) => update);

describe('pushes to renderers', () => {
  it('sends the snapshot first, then each change', () => {
    const { store, pushes } = setUp();
    const contents = new FakeWebContents();
    pushes.rendererReady(contents);
    store.update({ clockOffsetMs: 250 });
    expect(statePushes(contents)).toEqual([
      { kind: 'snapshot', state: { ...store.state, clockOffsetMs: 0 } },
      { kind: 'change', changes: { clockOffsetMs: 250 } },
    ]);
  });

  it('starts over after a reload: a fresh snapshot and still one subscription', () => {
    const { store, pushes, subscribe } = setUp();
    const contents = new FakeWebContents();
    pushes.rendererReady(contents);
    pushes.rendererReady(contents);
    store.update({ clockOffsetMs: 7 });
    expect(statePushes(contents).map((update) => (update as { kind: string }).kind)).toEqual([
      'snapshot',
      'snapshot',
      'change',
    ]);
    expect(subscribe).toHaveBeenCalledTimes(2);
  });

  it('drops the subscription when the window’s WebContents goes', () => {
    const { store, pushes } = setUp();
    const contents = new FakeWebContents();
    pushes.rendererReady(contents);
    contents.destroy();
    store.update({ clockOffsetMs: 9 });
    expect(statePushes(contents)).toHaveLength(1);
  });

  it('holds a navigation for a window still loading until it is ready, after its snapshot', () => {
    const { pushes } = setUp();
    const contents = new FakeWebContents();
    pushes.navigate(contents, { view: 'settings' });
    expect(contents.send).not.toHaveBeenCalled();
    pushes.rendererReady(contents);
    expect(contents.send.mock.calls.map(([channel]) => channel)).toEqual([
      PUSH_CHANNELS.state,
      PUSH_CHANNELS.navigate,
    ]);
    expect(contents.send).toHaveBeenLastCalledWith(PUSH_CHANNELS.navigate, { view: 'settings' });
    pushes.navigate(contents, { view: 'approvals' });
    expect(contents.send).toHaveBeenLastCalledWith(PUSH_CHANNELS.navigate, { view: 'approvals' });
  });

  it('sends nothing to a window that is gone', () => {
    const { pushes } = setUp();
    const contents = new FakeWebContents();
    contents.destroy();
    pushes.rendererReady(contents);
    pushes.navigate(contents, { view: 'settings' });
    expect(contents.send).not.toHaveBeenCalled();
  });
});
