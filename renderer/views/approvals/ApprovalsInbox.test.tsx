// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { appState, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { ApprovalsInbox } from './ApprovalsInbox.js';

const BOB = { id: 'bob', username: 'bob', displayName: 'Bob Martin', groups: ['team-leads'], isAdmin: false };

const OUTSIDE_HOURS = 'Outside working hours (Mon–Fri 08:00–19:00 Europe/Berlin): it is Fri 19:30 there.';
const first = request({
  id: 'req_00000000000000000001',
  requesterId: 'dave',
  reason: 'Debug order 4411',
  outsideConditions: [OUTSIDE_HOURS],
});
const second = request({
  id: 'req_00000000000000000002',
  requesterId: 'alice',
  resourceId: 'cloud-admin',
  role: 'administrator',
  durationSeconds: 1800,
  reason: 'Rotate the root keys',
  ticket: 'CHG-12',
  stage: { index: 1, total: 2, name: 'Security', escalated: false, approvalsNeeded: 1, approvalsGiven: 0 },
  decisions: [
    { approverId: 'carol', decision: 'approve', comment: '', at: new Date(NOW).toISOString(), stage: 0 },
  ],
});

function renderInbox() {
  return renderConnected(
    <ApprovalsInbox />,
    appState({ session: { status: 'signed-in', user: BOB, message: null }, approvals: [first, second] }),
  );
}

describe('the approvals inbox', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('shows who asks, for what and how long, why, the ticket, the stage and when it lapses', () => {
    renderInbox();
    const chain = screen.getByRole('article', {
      name: 'alice asks for AWS production account · administrator for 30 min',
    });
    const text = chain.textContent;
    expect(text).toContain('Rotate the root keys');
    expect(text).toContain('CHG-12');
    expect(text).toContain('2 of 2: Security');
    expect(text).toContain('Approved bycarol');
    expect(text).toContain('in 4 h');
    expect(document.getElementById('approvals-shortcuts')?.textContent).toBe('J/K move · A approve · D deny');
    // Each request points at the shortcuts, so a screen reader tells them too.
    expect(chain.getAttribute('aria-describedby')).toBe('approvals-shortcuts');
    expect(text).not.toContain('Outside');
    // A request that came to people because it was outside its role's conditions says which.
    const outside = screen.getByRole('article', { name: /^dave asks for/ });
    expect(outside.textContent).toContain(`Outside${OUTSIDE_HOURS}`);
  });

  it('moves with J and K, approves with A', async () => {
    const { user, main } = renderInbox();
    const [dave, alice] = screen.getAllByRole('article');
    dave?.focus();
    await user.keyboard('j');
    expect(document.activeElement).toBe(alice);
    expect(alice?.getAttribute('aria-current')).toBe('true');
    await user.keyboard('k');
    expect(document.activeElement).toBe(dave);
    main.answer('approve', () => ({ ok: true, value: { ...first, status: 'approved', waitingFor: [] } }));
    await user.keyboard('a');
    expect(main.callsOf('approve')).toEqual([{ requestId: first.id }]);
  });

  it('needs a comment to deny, and sends it', async () => {
    const { user, main } = renderInbox();
    screen.getAllByRole('article')[0]?.focus();
    await user.keyboard('d');
    const dialog = screen.getByRole('dialog', { name: 'Deny dave’s request' });
    const comment = within(dialog).getByRole('textbox', { name: 'Comment (required)' });
    expect(document.activeElement).toBe(comment);
    await user.click(within(dialog).getByRole('button', { name: 'Deny request' }));
    expect(within(dialog).getByRole('alert').textContent).toContain('A denial needs a comment');
    await user.type(comment, '   ');
    await user.click(within(dialog).getByRole('button', { name: 'Deny request' }));
    expect(main.callsOf('deny')).toEqual([]);
    // Typing in the comment is text, not shortcuts.
    await user.clear(comment);
    await user.type(comment, 'Ask for read; a dump is enough');
    expect(main.callsOf('approve')).toEqual([]);
    await user.click(within(dialog).getByRole('button', { name: 'Deny request' }));
    expect(main.callsOf('deny')).toEqual([
      { requestId: first.id, comment: 'Ask for read; a dump is enough' },
    ]);
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('keeps the dialog open with the service’s refusal', async () => {
    const { user, main } = renderInbox();
    main.answer('deny', () => ({
      ok: false,
      error: { code: 'already_decided', message: 'Someone decided this request already.' },
    }));
    await user.click(screen.getAllByRole('button', { name: 'Deny…' })[1] as HTMLElement);
    const dialog = screen.getByRole('dialog', { name: 'Deny alice’s request' });
    await user.type(within(dialog).getByRole('textbox', { name: 'Comment (required)' }), 'No');
    await user.click(within(dialog).getByRole('button', { name: 'Deny request' }));
    expect(within(dialog).getByRole('alert').textContent).toBe('Someone decided this request already.');
  });

  it('shows a failed approval with a way forward', async () => {
    const { user, main, runtime } = renderInbox();
    main.answer('approve', () => ({
      ok: false,
      error: { code: 'service_unreachable', message: 'The service cannot be reached.' },
    }));
    await user.click(screen.getAllByRole('button', { name: 'Approve' })[0] as HTMLElement);
    expect(runtime.store.getState().banner).toMatchObject({
      tone: 'error',
      text: 'The service cannot be reached.',
    });
  });

  it('tells an administrator asked only because nobody the policy names can finish the stage', () => {
    const admin = { id: 'admin', username: 'admin', displayName: 'Ada Admin', groups: [], isAdmin: true };
    const stuck = request({
      id: 'req_00000000000000000003',
      stage: { index: 0, total: 1, name: 'Approval', escalated: true, approvalsNeeded: 1, approvalsGiven: 0 },
      waitingFor: ['admin'],
    });
    const why =
      /Nobody the policy names can complete this stage any more; as an administrator, your approval completes it\./;
    renderConnected(
      <ApprovalsInbox />,
      appState({ session: { status: 'signed-in', user: admin, message: null }, approvals: [stuck] }),
    );
    expect(screen.getByRole('article').textContent).toMatch(why);
    cleanup();
    // bob is the stage's own approver: he decides as usual.
    renderConnected(
      <ApprovalsInbox />,
      appState({ session: { status: 'signed-in', user: BOB, message: null }, approvals: [stuck] }),
    );
    expect(screen.getByRole('article').textContent).not.toMatch(why);
  });

  it('says when nothing waits, with a way to check again', async () => {
    const { user, main } = renderConnected(<ApprovalsInbox />, appState());
    expect(screen.getByText('Nothing waits for you')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Check again' }));
    expect(main.callsOf('refresh')).toHaveLength(1);
    // No request to act on: the shortcuts do nothing.
    await user.keyboard('a');
    expect(main.callsOf('approve')).toEqual([]);
  });
});
