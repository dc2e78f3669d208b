import { describe, expect, it, vi } from 'vitest';
import { CLIPBOARD_CLEAR_MS, createHandlers } from '../../main/core/ipc-handlers.js';
import { clipboardForCore } from '../../main/electron/clipboard.js';
import { FakeClipboard } from './mocks/electron.js';
import { GRANT_ID, testCore } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

const OTHER_GRANT = 'grt_abcdefghjk0123456789';

/** The copyCredential handler over Electron's (asynchronous) clipboard, on a manual clock. */
function setUp() {
  const { core, clock, log } = testCore();
  const clipboard = new FakeClipboard();
  vi.spyOn(core, 'credential').mockImplementation((grantId) =>
    Promise.resolve({
      grantId,
      kind: 'token',
      expiresAt: new Date(clock.now() + 3_600_000).toISOString(),
      secret: { token: `token-of-${grantId}` },
    }),
  );
  const handlers = createHandlers({
    core,
    clipboard: clipboardForCore(clipboard, log),
    clock,
    log,
    openExternal: () => Promise.resolve(),
    externalHosts: [],
    rendererReady: () => undefined,
  });
  const copy = (grantId: string) => handlers.copyCredential({ grantId, part: 'secret' });
  /** Lets the clipboard's promises settle. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { clock, clipboard, copy, settle };
}

describe('a copied credential', () => {
  it('leaves the clipboard after 30 s', async () => {
    const { clock, clipboard, copy, settle } = setUp();
    await expect(copy(GRANT_ID)).resolves.toEqual({ clearsAt: clock.now() + CLIPBOARD_CLEAR_MS });
    await settle();
    expect(clipboard.text).toBe(`token-of-${GRANT_ID}`);
    clock.advance(CLIPBOARD_CLEAR_MS - 1);
    await settle();
    expect(clipboard.text).toBe(`token-of-${GRANT_ID}`);
    clock.advance(1);
    await settle();
    expect(clipboard.text).toBe('');
  });

  it('stays gone from our hands if the user copied something else meanwhile', async () => {
    const { clock, clipboard, copy, settle } = setUp();
    await copy(GRANT_ID);
    clipboard.text = 'the user’s own text';
    clock.advance(CLIPBOARD_CLEAR_MS);
    await settle();
    expect(clipboard.text).toBe('the user’s own text');
  });

  it('a second copy starts the 30 s again, for the second secret', async () => {
    const { clock, clipboard, copy, settle } = setUp();
    await copy(GRANT_ID);
    clock.advance(20_000);
    await copy(OTHER_GRANT);
    clock.advance(20_000);
    await settle();
    expect(clipboard.text).toBe(`token-of-${OTHER_GRANT}`);
    clock.advance(10_000);
    await settle();
    expect(clipboard.text).toBe('');
  });
});
