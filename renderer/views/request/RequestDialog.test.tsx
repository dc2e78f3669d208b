// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appState, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { RequestDialog } from './RequestDialog.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A button that opens the dialog, so focus has somewhere to come back to. */
function Opener({ resourceId, role }: { resourceId?: string; role?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setOpen(true);
        }}
      >
        Open request
      </button>
      {open ? (
        <RequestDialog
          {...(resourceId ? { resourceId } : {})}
          {...(role ? { role } : {})}
          onClose={() => {
            setOpen(false);
          }}
        />
      ) : null}
    </>
  );
}

async function openDialog(props: { resourceId?: string; role?: string } = {}) {
  const rendered = renderConnected(<Opener {...props} />, appState());
  await rendered.user.click(screen.getByRole('button', { name: 'Open request' }));
  return { ...rendered, dialog: screen.getByRole('dialog', { name: 'Request access' }) };
}

describe('the request dialog', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('is a labelled modal dialog that starts in the picker and gives focus back when it closes', async () => {
    const { user, dialog } = await openDialog();
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    const picker = screen.getByRole('combobox', { name: 'Resource and role' });
    expect(document.activeElement).toBe(picker);
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Open request' }));
  });

  it('is driven from the keyboard: type to filter, arrows to move, Enter to choose, Escape to close the list', async () => {
    const { user } = await openDialog();
    const picker = screen.getByRole('combobox', { name: 'Resource and role' });
    await user.type(picker, 'orders');
    const options = screen.getAllByRole('option');
    expect(options.map((option) => option.textContent)).toEqual([
      expect.stringContaining('read'),
      expect.stringContaining('write'),
      expect.stringContaining('owner'),
    ]);
    expect(picker.getAttribute('aria-activedescendant')).toBe(options[0]?.id);
    await user.keyboard('{ArrowDown}');
    expect(picker.getAttribute('aria-activedescendant')).toBe(options[1]?.id);
    await user.keyboard('{ArrowUp}{ArrowUp}');
    expect(picker.getAttribute('aria-activedescendant')).toBe(options[2]?.id); // wraps around
    await user.keyboard('{Enter}');
    expect((picker as HTMLInputElement).value).toBe('Production database (orders) · owner');
    expect(picker.getAttribute('aria-expanded')).toBe('false');
    expect(screen.getByRole('status').textContent).toContain('Needs approval from both bob and carol.');

    await user.clear(picker);
    await user.type(picker, 'nothing like this');
    expect(screen.getByText('Nothing matches “nothing like this”.')).toBeTruthy();
    await user.keyboard('{Escape}');
    expect(picker.getAttribute('aria-expanded')).toBe('false');
    expect(screen.getByRole('dialog')).toBeTruthy(); // the first Escape closed only the list
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('offers durations only within the policy and flags one typed outside it', async () => {
    const rendered = await openDialog({ resourceId: 'sandbox', role: 'operator' });
    const { user, dialog } = rendered;
    const presets = within(within(dialog).getByRole('group', { name: 'Common durations' })).getAllByRole(
      'button',
    );
    expect(presets.map((preset) => preset.textContent)).toEqual(['5 min', '15 min', '30 min', '1 h']);
    expect(presets[0]?.getAttribute('aria-pressed')).toBe('true'); // the policy's default
    await user.click(presets[2] as HTMLElement);
    expect(presets[2]?.getAttribute('aria-pressed')).toBe('true');
    const exact = within(dialog).getByRole('spinbutton', { name: 'Exact duration' });
    expect((exact as HTMLInputElement).value).toBe('30');
    await user.clear(exact);
    await user.type(exact, '90');
    expect(exact.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('Choose between 10 s and 1 h.')).toBeTruthy();
    const { main } = rendered;
    await user.click(within(dialog).getByRole('button', { name: 'Get access' }));
    // Out of range: nothing goes to main, and the dialog stays with the problem in view.
    expect(main.callsOf('requestAccess')).toEqual([]);
    expect(screen.getByRole('dialog', { name: 'Request access' })).toBe(dialog);
    expect(exact.getAttribute('aria-invalid')).toBe('true');
    await user.selectOptions(within(dialog).getByRole('combobox', { name: 'Unit' }), 'seconds');
    expect(exact.getAttribute('aria-invalid')).toBe('false');
    // Not a number at all: also refused before anything is sent.
    await user.clear(exact);
    await user.click(within(dialog).getByRole('button', { name: 'Get access' }));
    expect(within(dialog).getByText('Enter how long you need it.')).toBeTruthy();
    expect(main.callsOf('requestAccess')).toEqual([]);
  });

  it('validates the ticket as it is typed', async () => {
    const { user, dialog, main } = await openDialog({ resourceId: 'prod-db', role: 'write' });
    const ticket = within(dialog).getByRole('textbox', { name: 'Ticket' });
    expect(within(dialog).getByText('Format: OPS-[0-9]+')).toBeTruthy();
    await user.type(ticket, 'OPS');
    expect(ticket.getAttribute('aria-invalid')).toBe('true');
    expect(within(dialog).getByText('That does not match the format OPS-[0-9]+.')).toBeTruthy();
    await user.type(ticket, '-77');
    expect(ticket.getAttribute('aria-invalid')).toBe('false');
    expect(within(dialog).getByText('Looks right.')).toBeTruthy();
    // The reason is required for this role: sending without one says so, and sends nothing.
    await user.click(within(dialog).getByRole('button', { name: 'Send request' }));
    expect(within(dialog).getByText('Say why you need it; approvers read this.')).toBeTruthy();
    expect(main.callsOf('requestAccess')).toEqual([]);
  });

  it('sends what was chosen and says what happened', async () => {
    const { user, dialog, main, runtime } = await openDialog({ resourceId: 'prod-db', role: 'write' });
    main.answer('requestAccess', () => ({
      ok: true,
      value: request({ requesterId: 'alice', role: 'write' }),
    }));
    await user.click(within(dialog).getByRole('button', { name: '1 h' }));
    await user.type(within(dialog).getByRole('textbox', { name: 'Ticket' }), 'OPS-77');
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'Fix order 4411');
    await user.click(within(dialog).getByRole('button', { name: 'Send request' }));
    expect(main.callsOf('requestAccess')).toEqual([
      {
        resourceId: 'prod-db',
        role: 'write',
        durationSeconds: 3600,
        reason: 'Fix order 4411',
        ticket: 'OPS-77',
        idempotencyKey: expect.stringMatching(UUID) as unknown,
      },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(runtime.store.getState().banner?.text).toMatch(
      /^Request sent: Production database \(orders\) · write\. Waiting for bob/,
    );
  });

  it('keeps the dialog open with the service’s refusal in it', async () => {
    const { user, dialog, main } = await openDialog({ resourceId: 'sandbox', role: 'operator' });
    main.answer('requestAccess', () => ({
      ok: false,
      error: { code: 'duplicate_request', message: 'You already have access to sandbox/operator.' },
    }));
    await user.click(within(dialog).getByRole('button', { name: 'Get access' }));
    expect(within(dialog).getByRole('alert').textContent).toBe(
      'You already have access to sandbox/operator.',
    );
    expect(screen.getByRole('dialog')).toBeTruthy();
  });

  it('sends one idempotency key per dialog: a repeated send reuses it, the next dialog has its own', async () => {
    const { user, dialog, main } = await openDialog({ resourceId: 'sandbox', role: 'operator' });
    main.answer('requestAccess', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'Can’t reach the Timebox service.' },
    }));
    await user.click(within(dialog).getByRole('button', { name: 'Get access' }));
    await user.click(within(dialog).getByRole('button', { name: 'Get access' }));
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await user.click(screen.getByRole('button', { name: 'Open request' }));
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Get access' }));
    const keys = main
      .callsOf('requestAccess')
      .map((args) => (args as { idempotencyKey: string }).idempotencyKey);
    expect(keys).toHaveLength(3);
    for (const key of keys) expect(key).toMatch(UUID);
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  it('shows the service’s preview as the person types: one question per pause, its refusals and conditions', async () => {
    const { user, dialog, main } = await openDialog({ resourceId: 'prod-db', role: 'read' });
    main.answer('previewRequest', (args) => ({
      ok: true,
      value: {
        ok: false,
        problems: [
          ...(args.reason === ''
            ? [{ field: 'reason', code: 'reason_required', message: 'Give a reason.' }]
            : []),
          {
            field: 'role',
            code: 'request_already_pending',
            message: 'You already have request req_1 open for prod-db/read.',
          },
        ],
        decision: 'refused',
        approval: null,
        conditions: [
          {
            name: 'hours',
            met: false,
            message: 'Only Mon–Fri 08:00–19:00 Europe/Berlin; it is Sat 10:00 there.',
          },
          { name: 'networks', met: true, message: 'From 10.1.2.3, in 10.0.0.0/8.' },
        ],
      },
    }));
    const status = within(dialog).getByRole('status');
    await vi.waitFor(() => {
      expect(status.textContent).toContain('It would be refused:');
    });
    // Asked with the form as it stood: the reason still empty.
    expect(main.callsOf('previewRequest')).toEqual([
      { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: '' },
    ]);
    // The form shows a missing reason itself; the preview lists only what the form cannot know.
    expect(status.textContent).not.toContain('Give a reason.');
    expect(
      within(status)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual([
      'You already have request req_1 open for prod-db/read.',
      '✗ Only Mon–Fri 08:00–19:00 Europe/Berlin; it is Sat 10:00 there.',
      '✓ From 10.1.2.3, in 10.0.0.0/8.',
    ]);

    // Typing asks again after a pause, with what was typed; not once per key.
    await user.type(within(dialog).getByRole('textbox', { name: 'Reason' }), 'Debug');
    await vi.waitFor(() => {
      expect(main.callsOf('previewRequest').at(-1)).toEqual({
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: 'Debug',
      });
    });
    expect(main.callsOf('previewRequest').length).toBeLessThan(1 + 'Debug'.length);
  });

  it('says a request outside the role’s conditions would be refused, or go to people, naming the conditions once', async () => {
    const { dialog, main, user } = await openDialog({ resourceId: 'sandbox', role: 'operator' });
    const outside = 'From 127.0.0.1, outside the allowed networks (10.0.0.0/8).';
    let otherwise: 'refuse' | 'approval' = 'refuse';
    main.answer('previewRequest', () => ({
      ok: true,
      value:
        otherwise === 'refuse'
          ? {
              ok: false,
              problems: [{ field: 'conditions', code: 'conditions_not_met', message: `Refused. ${outside}` }],
              decision: 'refused',
              approval: null,
              conditions: [{ name: 'networks', met: false, message: outside }],
            }
          : {
              ok: true,
              problems: [],
              decision: 'approval',
              approval: {
                mode: 'any',
                stages: [
                  {
                    name: 'Administrators',
                    count: 1,
                    approvers: [{ id: 'admin', displayName: 'Timebox Admin' }],
                  },
                ],
              },
              conditions: [{ name: 'networks', met: false, message: outside }],
            },
    }));
    const status = within(dialog).getByRole('status');
    await vi.waitFor(() => {
      expect(status.textContent).toContain('It would be refused: the role’s conditions are not all met.');
    });
    expect(
      within(status)
        .getAllByRole('listitem')
        .map((item) => item.textContent),
    ).toEqual([`✗ ${outside}`]);

    otherwise = 'approval';
    await user.click(within(dialog).getByRole('button', { name: '15 min' }));
    await vi.waitFor(() => {
      expect(status.textContent).toContain('Needs approval: Administrators (Timebox Admin).');
    });
  });

  it('says what the catalog tells while the service gives no preview', async () => {
    const { dialog, main } = await openDialog({ resourceId: 'prod-db', role: 'owner' });
    main.answer('previewRequest', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'Can’t reach the Timebox service.' },
    }));
    await vi.waitFor(() => {
      expect(main.callsOf('previewRequest')).toHaveLength(1);
    });
    expect(within(dialog).getByRole('status').textContent).toContain(
      'Needs approval from both bob and carol.',
    );
  });

  it('keeps Tab inside the dialog', async () => {
    const { user, dialog } = await openDialog({ resourceId: 'sandbox', role: 'operator' });
    const buttons = within(dialog).getAllByRole('button');
    const last = buttons.at(-1) as HTMLElement;
    act(() => {
      last.focus();
    });
    await user.tab();
    expect(dialog.contains(document.activeElement)).toBe(true);
    expect(document.activeElement).toBe(within(dialog).getByRole('button', { name: 'Close' }));
    await user.tab({ shift: true });
    expect(document.activeElement).toBe(last);
  });
});
