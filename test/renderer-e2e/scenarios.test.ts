import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../server/http/schemas.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { countdownOf, pickRole, signIn } from './support/people.js';
import { waitFor, World } from './support/world.js';

const SANDBOX = 'Sandbox cluster · operator';

describe.runIf(keychainAvailable)('the renderer on the real core and service', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start();
  });
  afterAll(async () => {
    await world.stop();
  });

  it('auto-approves, extends and relinquishes from the tray popover', { timeout: 180_000 }, async () => {
    const dave = await world.open('popover');
    await signIn(dave, 'dave');
    const { page } = dave;
    expect(await captureView(world, page, 'popover-empty')).toEqual([]);

    // Auto-approval: granted at once, the credential lands in the keychain.
    await page.getByRole('button', { name: 'Request access' }).click();
    const dialog = page.getByRole('dialog', { name: 'Request access' });
    await pickRole(page, 'sandbox', /Sandbox cluster operator/);
    await expect.poll(() => dialog.getByRole('status').innerText()).toContain('Granted at once.');
    await dialog.getByRole('button', { name: 'Get access' }).click();
    const card = page.getByRole('article', { name: SANDBOX });
    await card.getByText('Credential in your keychain.').waitFor();
    await expect.poll(() => countdownOf(page, SANDBOX).innerText()).toBe('5:00');
    const grant = dave.desktop.core.store.state.grants.find(
      (candidate) => candidate.resourceId === 'sandbox',
    );
    if (!grant) throw new Error('dave has no sandbox grant');
    expect(await dave.keychain.get(`grant:${grant.id}`)).not.toBeNull();

    // Copy goes through main; the secret never reaches the page.
    await card.getByRole('button', { name: `Copy credential for ${SANDBOX}` }).click();
    await page.getByText(/Credential copied/).waitFor();
    expect(dave.wired.clipboard.text).toMatch(/^eyJ/);
    expect(await page.content()).not.toContain(dave.wired.clipboard.text);

    // Extend: main can ask for the dialog (a reminder's "Extend…" button); focus lands in it.
    dave.desktop.core.navigate({ view: 'extend', grantId: grant.id });
    const extend = page.getByRole('dialog', { name: `Extend ${SANDBOX}` });
    await extend.waitFor();
    await extend.getByRole('button', { name: '15 min', exact: true }).click();
    await expect.poll(() => extend.getByRole('status').innerText()).toContain('(+15 min)');
    expect(await captureView(world, page, 'extend-dialog')).toEqual([]);
    await extend.getByRole('button', { name: 'Extend', exact: true }).click();
    await page.getByText(/Extended Sandbox cluster · operator until/).waitFor();
    await expect.poll(() => countdownOf(page, SANDBOX).innerText()).toBe('20 min');

    // Relinquish, from My access, after a confirmation.
    await page.getByRole('button', { name: 'My access and history' }).click();
    await page.getByRole('button', { name: `Relinquish ${SANDBOX}` }).click();
    const confirm = page.getByRole('dialog', { name: `Relinquish ${SANDBOX}?` });
    await confirm.waitFor();
    // The safe choice has focus.
    expect(await page.locator(':focus').textContent()).toBe('Keep access');
    expect(await captureView(world, page, 'relinquish-confirm')).toEqual([]);
    await confirm.getByRole('button', { name: 'Relinquish now' }).click();
    await page
      .getByRole('listitem')
      .filter({ hasText: 'Relinquished' })
      .filter({ hasText: 'credential removed' })
      .waitFor();
    expect(await dave.keychain.get(`grant:${grant.id}`)).toBeNull();
    expect(await captureView(world, page, 'popover-my-access')).toEqual([]);
  });

  it(
    'validates the ticket as it is typed, and shows a denial with its comment',
    { timeout: 180_000 },
    async () => {
      const alice = await world.open('main');
      const bob = await world.open('main');
      await signIn(alice, 'alice');
      await signIn(bob, 'bob');

      const { page } = alice;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Request access' })
        .click();
      const dialog = page.getByRole('dialog', { name: 'Request access' });
      await pickRole(page, 'write', /Production database \(orders\) write/);
      const ticket = dialog.getByRole('textbox', { name: 'Ticket' });
      await ticket.fill('OPS-');
      await dialog.getByText('That does not match the format OPS-[0-9]+.').waitFor();
      expect(await ticket.getAttribute('aria-invalid')).toBe('true');
      await ticket.fill('OPS-42');
      await dialog.getByText('Looks right.').waitFor();
      await dialog.getByLabel('Reason').fill('Fix the stuck order 4411');
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await page.getByText('Waiting for approval').waitFor();

      await bob.page.getByRole('button', { name: /Approvals/ }).click();
      const request = bob.page.getByRole('article', {
        name: /alice asks for Production database \(orders\) · write/,
      });
      await expect.poll(() => request.innerText()).toContain('OPS-42');
      await request.focus();
      await bob.page.keyboard.press('d');
      const deny = bob.page.getByRole('dialog', { name: 'Deny alice’s request' });
      await deny.waitFor();
      await deny.getByRole('button', { name: 'Deny request' }).click();
      await deny.getByText(/A denial needs a comment/).waitFor();
      expect(await captureView(world, bob.page, 'deny-dialog')).toEqual([]);
      await deny.getByLabel('Comment (required)').fill('Use the read role; OPS-42 needs no writes.');
      await deny.getByRole('button', { name: 'Deny request' }).click();
      await bob.page.getByText('Nothing waits for you').waitFor();
      // Focus went back to the inbox, not to the page's start.
      expect(await bob.page.locator(':focus').getAttribute('id')).toBe(
        await bob.page.getByRole('heading', { name: 'Approvals' }).getAttribute('id'),
      );

      const denied = page.getByRole('listitem').filter({ hasText: 'Denied' });
      await denied.filter({ hasText: 'by bob: “Use the read role; OPS-42 needs no writes.”' }).waitFor();
      await world.advance(1000);
      await waitFor(
        () => alice.desktop.shown.some((notice) => notice.kind === 'request-decided'),
        'the denial notice',
      );
      expect(await captureView(world, bob.page, 'approvals-empty')).toEqual([]);
    },
  );

  it('queues for a seat and gets it when one frees up', { timeout: 180_000 }, async () => {
    // Both seats taken before Alice looks (the catalog's seat counts come with each full load).
    const api = world.api;
    const seats: RequestView[] = [];
    for (const user of ['bob', 'carol']) {
      const token = await api.login(user);
      const answer = await api.post<RequestView>('/v1/requests', token, {
        resourceId: 'design-suite',
        role: 'seat',
        durationSeconds: 3600,
        reason: '',
      });
      seats.push(answer.body);
    }
    const alice = await world.open('main');
    await signIn(alice, 'alice');
    const { page } = alice;
    await page
      .getByRole('navigation', { name: 'Timebox' })
      .getByRole('button', { name: 'Request access' })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Request access' });
    await pickRole(page, 'cad', /CAD Studio seat/);
    await expect
      .poll(() => dialog.getByRole('status').innerText())
      .toContain('All 2 seats in use: you will be queued (position 1).');
    await dialog.getByRole('button', { name: 'Get access' }).click();
    const queued = page.getByRole('article', { name: 'Request for CAD Studio · seat' });
    await queued.getByText('Queued · #1').waitFor();
    expect(await captureView(world, page, 'my-access-queued')).toEqual([]);

    // Bob gives his seat back: Alice's request takes it.
    const bobToken = await api.login('bob');
    await api.post(`/v1/grants/${seats[0]?.grantId ?? ''}/revoke`, bobToken, {});
    const card = page.getByRole('article', { name: 'CAD Studio · seat' });
    await card.getByText('Credential in your keychain.').waitFor();
    expect(await queued.count()).toBe(0);
  });

  it('changes settings at once, and signs out', { timeout: 120_000 }, async () => {
    const carol = await world.open('main');
    await signIn(carol, 'carol');
    const { page } = carol;
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByRole('switch', { name: /Do not disturb/ }).check();
    await waitFor(() => carol.desktop.settings.current.doNotDisturb, 'do-not-disturb saved');
    await page.getByRole('checkbox', { name: '30 s' }).check();
    await waitFor(
      () => carol.desktop.settings.current.reminderLeadsSeconds.includes(30),
      'the new lead time',
    );
    expect(await captureView(world, page, 'settings')).toEqual([]);
    await page.getByRole('button', { name: 'Sign out…' }).click();
    await page
      .getByRole('dialog', { name: 'Sign out of Timebox?' })
      .getByRole('button', { name: 'Sign out' })
      .click();
    await page.getByRole('heading', { name: 'Sign in to Timebox' }).waitFor();
  });
});
