// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appState, grant, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { MyAccess } from './MyAccess.js';

const SANDBOX = 'Sandbox cluster · operator';
const ORDERS = 'Production database (orders) · read';
const iso = (ms: number): string => new Date(ms).toISOString();

const mine = {
  pending: request({ id: 'req_0000000000000000001c', requesterId: 'alice' }),
  queued: request({
    id: 'req_0000000000000000002c',
    requesterId: 'alice',
    resourceId: 'design-suite',
    role: 'seat',
    status: 'queued',
    stage: null,
    waitingFor: [],
    queuePosition: 2,
  }),
};

describe('my access', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('has a designed empty state with a way to ask, and says what history will hold', async () => {
    const { user, runtime } = renderConnected(<MyAccess />, appState());
    expect(screen.getByText('No active access')).toBeTruthy();
    expect(screen.getByText('Ended grants and requests that were not granted show here.')).toBeTruthy();
    expect(screen.queryByRole('heading', { name: 'Waiting' })).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Request access' }));
    expect(runtime.store.getState().dialog).toEqual({ kind: 'request' });
  });

  it('lists live grants with copy, extend and relinquish, and ended ones under history', async () => {
    const { user, runtime } = renderConnected(
      <MyAccess />,
      appState({
        grants: [
          grant(),
          grant({
            id: 'grt_0000000000000000009a',
            status: 'expired',
            startsAt: iso(NOW - 3600_000),
            expiresAt: iso(NOW - 60_000),
            endedAt: iso(NOW - 60_000),
            endReason: 'expired',
            credential: 'wiped',
          }),
        ],
      }),
    );
    const card = screen.getByRole('article', { name: SANDBOX });
    expect(card.textContent).toContain('Credential in your keychain.');
    expect(within(card).getByRole('button', { name: `Copy credential for ${SANDBOX}` })).toBeTruthy();
    await user.click(within(card).getByRole('button', { name: `Extend ${SANDBOX}` }));
    expect(runtime.store.getState().dialog).toEqual({ kind: 'extend', grantId: grant().id });
    const history = screen.getByRole('heading', { name: 'History' }).parentElement as HTMLElement;
    expect(within(history).getByRole('listitem').textContent).toMatch(
      /Expired.*after 59 min; credential removed from your keychain/,
    );
  });

  it('relinquishes only after a confirmation whose safe choice has focus', async () => {
    const { user, main, runtime } = renderConnected(<MyAccess />, appState({ grants: [grant()] }));
    const relinquish = screen.getByRole('button', { name: `Relinquish ${SANDBOX}` });
    await user.click(relinquish);
    const confirm = screen.getByRole('dialog', { name: `Relinquish ${SANDBOX}?` });
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Keep access' }));
    await user.click(within(confirm).getByRole('button', { name: 'Keep access' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(main.callsOf('relinquishGrant')).toEqual([]);
    expect(document.activeElement).toBe(relinquish);

    main.answer('relinquishGrant', ({ grantId }) => ({
      ok: true,
      value: { ...grant({ id: grantId }), status: 'revoked', endReason: 'relinquished', endedAt: iso(NOW) },
    }));
    await user.click(relinquish);
    await user.click(screen.getByRole('button', { name: 'Relinquish now' }));
    expect(main.callsOf('relinquishGrant')).toEqual([{ grantId: grant().id }]);
    expect(runtime.store.getState().banner?.text).toMatch(/^Access to Sandbox cluster · operator ended at /);
  });

  it('says a failed relinquish in the banner, without a blind “Try again”', async () => {
    const { user, main, runtime } = renderConnected(<MyAccess />, appState({ grants: [grant()] }));
    main.answer('relinquishGrant', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'The service cannot be reached.' },
    }));
    await user.click(screen.getByRole('button', { name: `Relinquish ${SANDBOX}` }));
    await user.click(screen.getByRole('button', { name: 'Relinquish now' }));
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'error',
      text: 'The service cannot be reached.',
    });
    expect(runtime.store.getState().banner?.action).toBeUndefined();
  });

  it('shows what I wait for: whose decision, or my place in the queue', () => {
    renderConnected(
      <MyAccess />,
      appState({
        requests: [
          mine.pending,
          mine.queued,
          request({
            id: 'req_0000000000000000003c',
            requesterId: 'alice',
            resourceId: 'cloud-admin',
            role: 'administrator',
            stage: {
              index: 0,
              total: 2,
              name: 'Team lead',
              escalated: false,
              approvalsNeeded: 1,
              approvalsGiven: 0,
            },
          }),
          request({
            id: 'req_0000000000000000004c',
            requesterId: 'alice',
            kind: 'extension',
            extendsGrantId: 'grt_0000000000000000000a',
            durationSeconds: 900,
          }),
        ],
      }),
    );
    const pending = screen.getByRole('article', { name: `Request for ${ORDERS}` });
    expect(pending.textContent).toContain('Waiting for approval');
    expect(pending.textContent).toContain('Waiting for bob. For 1 h; lapses in 4 h');
    const queued = screen.getByRole('article', { name: 'Request for CAD Studio · seat' });
    expect(queued.textContent).toContain('Queued · #2');
    expect(queued.textContent).toContain('you are number 2 in line');
    const chain = screen.getByRole('article', { name: 'Request for AWS production account · administrator' });
    expect(chain.textContent).toContain('Stage 1 of 2 (Team lead): waiting for bob.');
    const extension = screen.getByRole('article', { name: `Extension of ${ORDERS}` });
    expect(extension.textContent).toContain('More time on Production database (orders)');
    expect(extension.textContent).toContain('For 15 min');
  });

  it('cancels a request after a confirmation that says what is given up', async () => {
    const { user, main, runtime } = renderConnected(
      <MyAccess />,
      appState({ requests: [mine.pending, mine.queued] }),
    );
    const cancelQueued = screen.getByRole('button', { name: 'Cancel request for CAD Studio · seat' });
    await user.click(cancelQueued);
    let confirm = screen.getByRole('dialog', { name: 'Cancel your request for CAD Studio · seat?' });
    expect(confirm.textContent).toContain('You give up your place in the queue.');
    expect(document.activeElement).toBe(within(confirm).getByRole('button', { name: 'Keep waiting' }));
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(main.callsOf('cancelRequest')).toEqual([]);

    main.answer('cancelRequest', ({ requestId }) => ({
      ok: true,
      value: { ...mine.pending, id: requestId, status: 'cancelled' },
    }));
    await user.click(screen.getByRole('button', { name: `Cancel request for ${ORDERS}` }));
    confirm = screen.getByRole('dialog', { name: `Cancel your request for ${ORDERS}?` });
    expect(confirm.textContent).toContain('Approvers will no longer see it.');
    await user.click(within(confirm).getByRole('button', { name: 'Cancel request' }));
    expect(main.callsOf('cancelRequest')).toEqual([{ requestId: mine.pending.id }]);
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'success',
      text: `Cancelled your request for ${ORDERS}.`,
    });
  });

  it('says a refused cancel in the banner', async () => {
    const { user, main, runtime } = renderConnected(<MyAccess />, appState({ requests: [mine.pending] }));
    main.answer('cancelRequest', () => ({
      ok: false,
      error: { code: 'request_not_pending', message: 'This request was decided already.' },
    }));
    await user.click(screen.getByRole('button', { name: `Cancel request for ${ORDERS}` }));
    await user.click(screen.getByRole('button', { name: 'Cancel request' }));
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'error',
      text: 'This request was decided already.',
    });
  });

  it('marks what a notification pointed at', () => {
    const { runtime } = renderConnected(<MyAccess />, appState({ requests: [mine.pending] }));
    act(() => {
      runtime.store.getState().navigate({ view: 'access', requestId: mine.pending.id });
    });
    const item = screen.getByRole('article', { name: `Request for ${ORDERS}` }).closest('li');
    expect(item?.className).toBe('highlighted');
  });
});
