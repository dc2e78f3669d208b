// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { appState, grant } from '../test-support/fixtures.js';
import { fakeMain } from '../test-support/fake-api.js';
import { createRuntime, runCommand } from './runtime.js';
import { createTimeboxStore, SUCCESS_SHOWN_MS } from './store.js';

describe('the store', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes the snapshot, then changes by whole top-level keys', () => {
    const store = createTimeboxStore('main');
    const state = appState();
    store.getState().applyUpdate({ kind: 'snapshot', state });
    expect(store.getState().app).toBe(state);
    const grants = [grant()];
    store.getState().applyUpdate({ kind: 'change', changes: { grants } });
    expect(store.getState().app?.grants).toBe(grants);
    expect(store.getState().app?.catalog).toBe(state.catalog);
    store.getState().applyUpdate({
      kind: 'change',
      changes: { connection: { status: 'offline', retryAt: null, message: 'down' } },
    });
    expect(store.getState().app?.connection.status).toBe('offline');
    expect(store.getState().app?.grants).toBe(grants);
  });

  it('ignores a change that comes before any snapshot', () => {
    const store = createTimeboxStore('main');
    store.getState().applyUpdate({ kind: 'change', changes: { grants: [grant()] } });
    expect(store.getState().app).toBeNull();
  });

  it('shows what main navigates to', () => {
    const store = createTimeboxStore('main');
    store.getState().navigate({ view: 'approvals', requestId: 'req_1' });
    expect(store.getState()).toMatchObject({
      section: 'approvals',
      highlight: { requestId: 'req_1' },
      dialog: null,
    });
    store.getState().navigate({ view: 'request', resourceId: 'prod-db', role: 'read' });
    expect(store.getState().dialog).toEqual({ kind: 'request', resourceId: 'prod-db', role: 'read' });
    store.getState().navigate({ view: 'extend', grantId: 'grt_1' });
    expect(store.getState()).toMatchObject({
      section: 'access',
      dialog: { kind: 'extend', grantId: 'grt_1' },
    });
    store.getState().navigate({ view: 'popover' });
    expect(store.getState()).toMatchObject({ section: 'access', dialog: null });
  });

  it('keeps the popover in place under an extend dialog', () => {
    const store = createTimeboxStore('popover');
    expect(store.getState().section).toBe('home');
    store.getState().navigate({ view: 'extend', grantId: 'grt_1' });
    expect(store.getState()).toMatchObject({ section: 'home', dialog: { kind: 'extend', grantId: 'grt_1' } });
  });

  it('lets a confirmation go by itself, but keeps an error', () => {
    vi.useFakeTimers();
    const store = createTimeboxStore('main');
    store.getState().showBanner({ tone: 'success', text: 'Done.' });
    vi.advanceTimersByTime(SUCCESS_SHOWN_MS);
    expect(store.getState().banner).toBeNull();
    store.getState().showBanner({ tone: 'error', text: 'Failed.' });
    vi.advanceTimersByTime(SUCCESS_SHOWN_MS * 2);
    expect(store.getState().banner?.text).toBe('Failed.');
  });
});

describe('the runtime', () => {
  it('subscribes before saying it is ready, and lets go when disconnected', () => {
    const main = fakeMain(appState());
    const runtime = createRuntime(main.api, 'popover');
    const disconnect = runtime.connect();
    expect(main.calls.map((call) => call.method)).toEqual(['rendererReady']);
    // The snapshot main sent in answer arrived: the subscription was in place first.
    expect(runtime.store.getState().app).not.toBeNull();
    expect(main.listeners()).toEqual({ state: 1, navigate: 1 });
    main.navigate({ view: 'settings' });
    expect(runtime.store.getState().section).toBe('settings');
    disconnect();
    expect(main.listeners()).toEqual({ state: 0, navigate: 0 });
    main.push({ kind: 'change', changes: { grants: [grant()] } });
    expect(runtime.store.getState().app?.grants).toEqual([]);
  });

  it('shows a failed call as a message with a way to try again', async () => {
    const main = fakeMain(appState());
    const runtime = createRuntime(main.api, 'main');
    runtime.connect();
    main.answer('refresh', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'The service cannot be reached.' },
    }));
    expect(await runCommand(runtime, () => runtime.api.refresh({}))).toBeNull();
    const banner = runtime.store.getState().banner;
    expect(banner).toMatchObject({
      tone: 'error',
      text: 'The service cannot be reached.',
      action: { label: 'Try again' },
    });
    main.answer('refresh', () => ({ ok: true, value: null }));
    banner?.action?.run();
    await vi.waitFor(() => {
      expect(main.callsOf('refresh')).toHaveLength(2);
    });
    await vi.waitFor(() => {
      expect(runtime.store.getState().banner).toBeNull();
    });
  });
});
