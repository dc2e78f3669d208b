// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GrantState } from '../../../preload/contract.js';
import { appState, grant, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { ExtendDialog } from './ExtendDialog.js';

const SANDBOX = 'Sandbox cluster · operator';
const ORDERS = 'Production database (orders) · read';
const iso = (ms: number): string => new Date(ms).toISOString();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function openDialog(grantId: string) {
  const rendered = renderConnected(
    <ExtendDialog grantId={grantId} onClose={() => undefined} />,
    appState({ grants: [grant()] }),
  );
  await screen.findByRole('dialog');
  return rendered;
}

describe('the extend dialog', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('sends one idempotency key per dialog: a repeated send reuses it, the next dialog has its own', async () => {
    const first = await openDialog(grant().id);
    first.main.answer('extendGrant', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'Can’t reach the Timebox service.' },
    }));
    const extend = () =>
      first.user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Extend' }));
    await extend();
    expect(within(screen.getByRole('dialog')).getByRole('alert').textContent).toBe(
      'Can’t reach the Timebox service.',
    );
    await extend();
    const calls = first.main.callsOf('extendGrant') as { grantId: string; idempotencyKey: string }[];
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      grantId: grant().id,
      idempotencyKey: expect.stringMatching(UUID) as unknown,
    });
    expect(calls[1]?.idempotencyKey).toBe(calls[0]?.idempotencyKey);
    first.unmount();

    const second = await openDialog(grant().id);
    second.main.answer('extendGrant', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'Can’t reach the Timebox service.' },
    }));
    await second.user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Extend' }));
    const [again] = second.main.callsOf('extendGrant') as { idempotencyKey: string }[];
    expect(again?.idempotencyKey).toMatch(UUID);
    expect(again?.idempotencyKey).not.toBe(calls[0]?.idempotencyKey);
  });

  it('sends nothing for a grant that has ended', async () => {
    const { main } = renderConnected(
      <ExtendDialog grantId={grant().id} onClose={() => undefined} />,
      appState({ grants: [grant({ status: 'expired', endReason: 'expired' })] }),
    );
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getByText(/This grant has ended/)).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: 'Extend' })).toBeNull();
    expect(main.callsOf('extendGrant')).toEqual([]);
  });
});

describe('what the extend dialog lets through', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  function renderExtend(extended: GrantState) {
    const onClose = vi.fn();
    const rendered = renderConnected(
      <ExtendDialog grantId={extended.id} onClose={onClose} />,
      appState({ grants: [extended] }),
    );
    return { ...rendered, onClose };
  }

  it('says when a grant is already as long as its role allows, and offers nothing to send', async () => {
    const atMaximum = grant({ expiresAt: iso(NOW + 20 * 60_000), maxExpiresAt: iso(NOW + 20 * 60_000) });
    const { user, main, onClose } = renderExtend(atMaximum);
    const dialog = screen.getByRole('dialog', { name: `Extend ${SANDBOX}` });
    expect(within(dialog).getByText('This grant is already as long as its role allows.')).toBeTruthy();
    expect(within(dialog).queryByRole('button', { name: 'Extend' })).toBeNull();
    expect(within(dialog).queryByRole('group', { name: 'Common durations' })).toBeNull();
    // The header's × and the footer's button: the footer's is the one a keyboard reaches last.
    const [, close] = within(dialog).getAllByRole('button', { name: 'Close' });
    await user.click(close as HTMLElement);
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(main.callsOf('extendGrant')).toEqual([]);
  });

  it('offers no more than the headroom left, and sends nothing outside it', async () => {
    // 30 minutes left of an hour at most: at most 30 more minutes.
    const { user, main } = renderExtend(grant());
    const dialog = screen.getByRole('dialog', { name: `Extend ${SANDBOX}` });
    const presets = within(within(dialog).getByRole('group', { name: 'Common durations' })).getAllByRole(
      'button',
    );
    expect(presets.map((preset) => preset.textContent)).toEqual(['5 min', '15 min', '30 min']);
    const exact = within(dialog).getByRole('spinbutton', { name: 'Exact duration' });
    await user.clear(exact);
    await user.type(exact, '45');
    expect(exact.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('Choose between 1 min and 30 min.')).toBeTruthy();
    await user.click(within(dialog).getByRole('button', { name: 'Extend' }));
    await user.clear(exact);
    await user.click(within(dialog).getByRole('button', { name: 'Extend' }));
    expect(within(dialog).getByText('Enter how long you need it.')).toBeTruthy();
    expect(main.callsOf('extendGrant')).toEqual([]);
  });

  it('needs a reason when the role does, then asks and says who decides', async () => {
    const orders = grant({
      resourceId: 'prod-db',
      role: 'read',
      expiresAt: iso(NOW + 30 * 60_000),
      maxExpiresAt: iso(NOW + 4 * 3600_000),
    });
    const { user, main, runtime, onClose } = renderExtend(orders);
    const dialog = screen.getByRole('dialog', { name: `Extend ${ORDERS}` });
    expect(within(dialog).getByRole('status').textContent).toContain('Needs approval from bob.');
    await user.click(within(dialog).getByRole('button', { name: '15 min' }));
    await user.click(within(dialog).getByRole('button', { name: 'Extend' }));
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'Say why you need more time; approvers read this.',
    );
    expect(document.activeElement).toBe(within(dialog).getByRole('textbox', { name: 'Reason' }));
    expect(main.callsOf('extendGrant')).toEqual([]);

    main.answer('extendGrant', () => ({
      ok: true,
      value: {
        kind: 'needs-approval',
        request: request({ requesterId: 'alice', kind: 'extension', extendsGrantId: orders.id }),
      },
    }));
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), '  One more pass  ');
    await user.click(within(dialog).getByRole('button', { name: 'Extend' }));
    expect(main.callsOf('extendGrant')).toEqual([
      expect.objectContaining({ grantId: orders.id, durationSeconds: 900, reason: 'One more pass' }),
    ]);
    expect(runtime.store.getState().banner?.text).toBe(`Extension requested for ${ORDERS}: waiting for bob.`);
    expect(onClose).toHaveBeenCalledTimes(1);
  });
});
