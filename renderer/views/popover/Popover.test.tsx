// @vitest-environment happy-dom
import { act, cleanup, screen } from '@testing-library/react';
import { Profiler } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appState, grant, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { Popover } from './Popover.js';

const LABEL = 'Sandbox cluster · operator';

describe('the tray popover', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('counts a grant down on service time and flips it to ended at its expiry', () => {
    const expiresAt = NOW + 11 * 60_000;
    // The service's clock is 30 s ahead of ours.
    const offset = 30_000;
    vi.setSystemTime(NOW - offset);
    renderConnected(
      <Popover />,
      appState({ clockOffsetMs: offset, grants: [grant({ expiresAt: new Date(expiresAt).toISOString() })] }),
      { windowKind: 'popover' },
    );
    const card = () => screen.getByRole('article', { name: LABEL });
    const countdown = () => card().querySelector('.countdown-text')?.textContent;
    expect(countdown()).toBe('11 min');
    expect(card().querySelector('time')?.getAttribute('datetime')).toBe(new Date(expiresAt).toISOString());
    act(() => {
      vi.advanceTimersByTime(60_000);
    });
    expect(countdown()).toBe('10:00');
    act(() => {
      vi.advanceTimersByTime(9 * 60_000 + 59_000);
    });
    expect(countdown()).toBe('0:01');
    expect(
      screen.getByRole('progressbar', { name: `Time left on ${LABEL}` }).getAttribute('aria-valuetext'),
    ).toBe('1 s left');
    act(() => {
      vi.advanceTimersByTime(999);
    });
    expect(countdown()).toBe('0:01');
    act(() => {
      vi.advanceTimersByTime(1);
    });
    // Ended on the dot, though main has not said so yet.
    expect(countdown()).toBeUndefined();
    expect(card().textContent).toContain('Ended');
    expect(card().textContent).toContain('expired at');
  });

  it('keeps a short grant calm until its second half, then amber, then red in its last minute', () => {
    renderConnected(
      <Popover />,
      appState({ grants: [grant({ expiresAt: new Date(NOW + 5 * 60_000).toISOString() })] }),
      { windowKind: 'popover' },
    );
    const tone = () =>
      [...screen.getByRole('article', { name: LABEL }).classList].find((name) =>
        /^grant-(calm|soon|urgent)$/.test(name),
      );
    expect(tone()).toBe('grant-calm');
    act(() => {
      vi.advanceTimersByTime(2 * 60_000 + 29_000);
    });
    expect(tone()).toBe('grant-calm');
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(tone()).toBe('grant-soon');
    act(() => {
      vi.advanceTimersByTime(90_000);
    });
    expect(tone()).toBe('grant-urgent');
  });

  it('offers Extend once a grant is within ten minutes of its end, without re-rendering at each tick before', () => {
    let commits = 0;
    renderConnected(
      <Profiler
        id="popover"
        onRender={() => {
          commits += 1;
        }}
      >
        <Popover />
      </Profiler>,
      appState({
        grants: [
          grant({
            // Past its half already, so its tone stays the same over these two minutes.
            startsAt: new Date(NOW - 60 * 60_000).toISOString(),
            expiresAt: new Date(NOW + 12 * 60_000).toISOString(),
          }),
        ],
      }),
      { windowKind: 'popover' },
    );
    const extend = () => screen.queryByRole('button', { name: `Extend ${LABEL}` });
    const countdown = () => screen.getByRole('article', { name: LABEL }).querySelector('.countdown-text');
    expect(extend()).toBeNull();
    const committed = commits;
    for (let tick = 0; tick < 119; tick++) {
      act(() => {
        vi.advanceTimersByTime(1000);
      });
    }
    // 119 ticks: the countdown moved (from "12 min"), and nothing in the popover rendered again.
    expect(countdown()?.textContent).toBe('11 min');
    expect(commits).toBe(committed);
    expect(extend()).toBeNull();
    act(() => {
      vi.advanceTimersByTime(1000);
    });
    expect(countdown()?.textContent).toBe('10:00');
    expect(extend()).not.toBeNull();
  });

  it('shows recently ended grants under their own heading', () => {
    renderConnected(
      <Popover />,
      appState({
        grants: [
          grant({
            status: 'expired',
            endReason: 'expired',
            expiresAt: new Date(NOW - 60_000).toISOString(),
            endedAt: new Date(NOW - 60_000).toISOString(),
            credential: 'wiped',
          }),
        ],
      }),
      { windowKind: 'popover' },
    );
    const ended = screen.getByRole('region', { name: 'Recently ended' });
    expect(ended.textContent).toContain('Credential removed from your keychain.');
    expect(screen.getByRole('region', { name: 'Active access' }).textContent).toContain('No active access');
  });

  it('counts the approvals waiting and opens the inbox', () => {
    const { runtime } = renderConnected(
      <Popover />,
      appState({ approvals: [request(), request({ id: 'req_00000000000000000009' })] }),
      {
        windowKind: 'popover',
      },
    );
    const callout = screen.getByRole('button', { name: /2 approvals waiting/ });
    act(() => {
      callout.click();
    });
    expect(runtime.store.getState().section).toBe('approvals');
  });

  it('has a designed empty state and a primary way to ask', () => {
    const { runtime } = renderConnected(<Popover />, appState(), { windowKind: 'popover' });
    expect(screen.getByText('No active access')).toBeTruthy();
    act(() => {
      screen.getByRole('button', { name: 'Request access' }).click();
    });
    expect(runtime.store.getState().dialog).toEqual({ kind: 'request' });
  });

  it('says quietly when it is offline, and offers to retry', () => {
    const { main } = renderConnected(
      <Popover />,
      appState({
        connection: { status: 'offline', retryAt: null, message: 'The service cannot be reached.' },
      }),
      { windowKind: 'popover' },
    );
    expect(screen.getByRole('status', { name: '' }).textContent).toContain('Offline.');
    act(() => {
      screen.getByRole('button', { name: 'Retry now' }).click();
    });
    expect(main.callsOf('refresh')).toHaveLength(1);
  });

  it('says “Checking…” while a retry runs, and a failed one in the banner', async () => {
    const { main, runtime } = renderConnected(
      <Popover />,
      appState({ connection: { status: 'polling', retryAt: null, message: null } }),
      { windowKind: 'popover' },
    );
    main.answer('refresh', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'The service cannot be reached.' },
    }));
    const retry = screen.getByRole<HTMLButtonElement>('button', { name: 'Retry now' });
    act(() => {
      retry.click();
    });
    expect(retry.textContent).toBe('Checking…');
    expect(retry.disabled).toBe(true);
    // Main's answer arrives (a resolved promise): let it land.
    await act(() => Promise.resolve());
    expect(retry.textContent).toBe('Retry now');
    expect(retry.disabled).toBe(false);
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'error',
      text: 'The service cannot be reached.',
    });
    expect(screen.getByRole('alert').textContent).toContain('The service cannot be reached.');
  });

  it('says when the keychain is unavailable, with a way to try again', () => {
    renderConnected(
      <Popover />,
      appState({
        keychain: { available: false, locked: false, message: 'No system keychain is available.' },
        grants: [grant({ credential: 'failed', credentialError: 'No system keychain is available.' })],
      }),
      { windowKind: 'popover' },
    );
    expect(screen.getByText('Keychain unavailable.')).toBeTruthy();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
    expect(
      screen.getByRole<HTMLButtonElement>('button', { name: `Copy credential for ${LABEL}` }).disabled,
    ).toBe(true);
  });

  it('says when the keychain is locked, as main found it', () => {
    renderConnected(
      <Popover />,
      appState({
        keychain: { available: false, locked: true, message: 'Your keychain is locked. Unlock it.' },
      }),
      { windowKind: 'popover' },
    );
    expect(screen.getByText('Keychain locked.')).toBeTruthy();
    expect(screen.getByText(/Your keychain is locked\. Unlock it\./)).toBeTruthy();
  });
});
