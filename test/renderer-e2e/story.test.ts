import { describe, expect, it } from 'vitest';
import type { GrantView } from '../../api/schemas.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { countdownOf, pickRole, signIn } from './support/people.js';
import { suiteWorld, waitFor } from './support/world.js';

const GRANT = 'Production database (orders) · read';

// The whole story, as the issue tells it: request, approval by a second person from the inbox, the
// notification, the countdown, a reminder, the expiry, the wiped keychain entry and the window saying so.
describe.runIf(keychainAvailable)('the whole story of one grant', () => {
  const world = suiteWorld();

  it(
    'requests, is approved from the inbox, counts down, reminds, expires and wipes',
    { timeout: 240_000 },
    async () => {
      const alice = await world.open('main');
      const bob = await world.open('main');
      expect(await captureView(world, alice.page, 'sign-in')).toEqual([]);
      await signIn(alice, 'alice');
      await signIn(bob, 'bob');

      // Alice asks, keyboard first, and is told before sending what will happen.
      const page = alice.page;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Request access' })
        .click();
      const dialog = page.getByRole('dialog', { name: 'Request access' });
      await expect.poll(() => dialog.isVisible()).toBe(true);
      await pickRole(page, 'orders', /Production database \(orders\) read/);
      await dialog.getByRole('button', { name: '5 min', exact: true }).click();
      await dialog.getByLabel('Reason').fill('Investigate order 4411');
      await expect.poll(() => dialog.getByRole('status').innerText()).toContain('Needs approval from bob.');
      expect(await captureView(world, page, 'request-dialog')).toEqual([]);
      await dialog.getByRole('button', { name: 'Send request' }).click();
      await page.getByText(/Request sent: .*Waiting for bob/).waitFor();
      await page.getByText('Waiting for approval').waitFor();
      // Focus went back to the button that opened the dialog.
      expect(await page.locator(':focus').textContent()).toBe('Request access');

      // Bob decides from his inbox, with the A shortcut.
      await bob.page.getByRole('button', { name: /Approvals/ }).click();
      const request = bob.page.getByRole('article', {
        name: /alice asks for Production database \(orders\) · read for 5 min/,
      });
      await request.waitFor();
      await expect.poll(() => request.innerText()).toContain('Investigate order 4411');
      expect(await captureView(world, bob.page, 'approvals')).toEqual([]);
      await request.focus();
      await bob.page.keyboard.press('a');
      await bob.page.getByText('Nothing waits for you').waitFor();

      // Alice's grant arrives, with its notification and its credential in the keychain.
      const card = page.getByRole('article', { name: GRANT });
      await card.getByText('Credential in your keychain.').waitFor();
      await expect.poll(() => countdownOf(page, GRANT).innerText()).toBe('5:00');
      // Notifications are gathered for a moment (a burst becomes one), then shown.
      await world.advance(1000);
      await waitFor(
        () => alice.desktop.shown.some((notice) => notice.kind === 'activated'),
        'the activation notice',
      );
      await expect.poll(() => countdownOf(page, GRANT).innerText()).toBe('4:59');
      const grant = alice.desktop.core.store.state.grants.find(
        (candidate) => candidate.resourceId === 'prod-db',
      );
      if (!grant) throw new Error('alice has no grant');
      expect(await alice.keychain.get(`grant:${grant.id}`)).not.toBeNull();
      const expiresAt = Date.parse(grant.expiresAt);
      expect(await captureView(world, page, 'my-access')).toEqual([]);

      // The countdown runs on service time.
      await world.advanceTo(expiresAt - 4 * 60_000);
      await expect.poll(() => countdownOf(page, GRANT).innerText()).toBe('4:00');

      // One minute before the end, the reminder fires (on the desktop's own schedule).
      await world.advanceTo(expiresAt - 60_000);
      await world.advance(100); // past the moment notifications are gathered for
      await waitFor(() => alice.desktop.shown.some((notice) => notice.kind === 'expiring'), 'the reminder');
      await expect.poll(() => countdownOf(page, GRANT).innerText()).toBe('1:00');

      // The tray popover beside it shows the same grant from the same core.
      const popover = (await world.openWindow(alice.desktop, 'popover')).page;
      const popoverCard = popover.getByRole('article', { name: GRANT });
      await expect.poll(() => countdownOf(popover, GRANT).innerText()).toBe('1:00');
      expect(await captureView(world, popover, 'popover')).toEqual([]);

      // The renderer flips the grant to ended at its expiry by itself, before main or the service say so:
      // only the popover's clock moves.
      await world.advanceTo(expiresAt - 1000);
      await expect.poll(() => countdownOf(popover, GRANT).innerText()).toBe('0:01');
      await world.advancePageOnly(popover, 1000);
      await popoverCard.getByText('Ended', { exact: true }).waitFor();
      expect(await popoverCard.locator('.countdown-text').count()).toBe(0);
      await popoverCard.getByText('Removing the credential from your keychain…').waitFor();
      const coreGrant = () =>
        alice.desktop.core.store.state.grants.find((candidate) => candidate.id === grant.id);
      expect(coreGrant()?.status).toBe('active');
      expect(await alice.keychain.get(`grant:${grant.id}`)).not.toBeNull();
      const served = await world.api.get<GrantView>(`/v1/grants/${grant.id}`, await world.api.login('alice'));
      expect(served.body.status).toBe('active');
      // The main window's clock has not moved either: it still shows the last second.
      expect(await countdownOf(page, GRANT).innerText()).toBe('0:01');
      await world.catchUpWith(popover, 1000);
      await waitFor(() => coreGrant()?.status === 'expired', 'main ending the grant');

      // Main wipes the credential; both windows say so.
      await popoverCard.getByText('Credential removed from your keychain.').waitFor();
      expect(await alice.keychain.get(`grant:${grant.id}`)).toBeNull();
      await world.advance(1000);
      await waitFor(() => alice.desktop.shown.some((notice) => notice.kind === 'ended'), 'the ended notice');
      const history = page.getByRole('listitem').filter({ hasText: 'Production database' });
      await history
        .filter({ hasText: 'Expired' })
        .filter({ hasText: 'credential removed from your keychain' })
        .waitFor();
      expect(await captureView(world, popover, 'popover-ended')).toEqual([]);
      expect(await captureView(world, page, 'my-access-ended')).toEqual([]);
    },
  );
});
