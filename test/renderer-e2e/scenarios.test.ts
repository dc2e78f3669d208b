import { describe, expect, it } from 'vitest';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { TOTP_USER, totpCode } from '../support/totp-organisation.js';
import { countdownOf, pickRole, signIn } from './support/people.js';
import { suiteWorld, waitFor } from './support/world.js';

const SANDBOX = 'Sandbox cluster · operator';

describe.runIf(keychainAvailable)('the renderer on the real core and service', () => {
  const world = suiteWorld();

  it(
    'shows its loading state until main’s state arrives, then signs in with a second factor',
    { timeout: 120_000 },
    async () => {
      const erin = await world.open('main', { holdSnapshot: true });
      const { page } = erin;
      await page.getByText('Starting Timebox…').waitFor();
      await waitFor(() => erin.wired.calls.includes('rendererReady'), 'the renderer asking for state');
      expect(await captureView(world, page, 'loading')).toEqual([]);
      erin.wired.releaseSnapshot();
      await page.getByRole('heading', { name: 'Sign in to Timebox' }).waitFor();

      await page.getByLabel('Username').fill(TOTP_USER);
      await page.getByLabel('Password').fill('demo');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      const code = page.getByLabel('6-digit code from your authenticator app');
      expect(await page.locator(':focus').getAttribute('id')).toBe(await code.getAttribute('id'));
      expect(await captureView(world, page, 'sign-in-totp')).toEqual([]);

      // Too short: said at once, and nothing goes to the service.
      const signInCalls = () => erin.wired.calls.filter((method) => method === 'signIn').length;
      const callsBefore = signInCalls();
      await code.fill('123');
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('alert').filter({ hasText: 'Enter the 6 digits' }).waitFor();
      expect(signInCalls()).toBe(callsBefore);

      // A wrong code: the service's refusal, the field cleared for another try.
      const right = totpCode(world.clock.now());
      await code.fill(right === '000000' ? '111111' : '000000');
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect.poll(() => code.inputValue()).toBe('');
      expect(signInCalls()).toBe(callsBefore + 1);
      expect(await page.getByRole('alert').innerText()).not.toBe('');
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();

      await code.fill(right);
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('navigation', { name: 'Timebox' }).waitFor();
      expect(erin.desktop.core.store.state.session.user?.username).toBe(TOTP_USER);
    },
  );

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

    // Extend from the card's own button (the popover offers it in a grant's last ten minutes).
    await card.getByRole('button', { name: `Extend ${SANDBOX}` }).click();
    const extend = page.getByRole('dialog', { name: `Extend ${SANDBOX}` });
    await extend.waitFor();
    expect(await extend.locator(':focus').count()).toBe(1);
    // More than the role allows: said in the dialog, and nothing is sent.
    const exact = extend.getByRole('spinbutton', { name: 'Exact duration' });
    await exact.fill('90');
    await extend.getByText('Choose between 1 min and 55 min.').waitFor();
    await extend.getByRole('button', { name: 'Extend', exact: true }).click();
    expect(dave.wired.calls).not.toContain('extendGrant');
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

  it('changes settings at once, and signs out after a confirmation', { timeout: 120_000 }, async () => {
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
    // Not a URL: said under the field, and Save stays off.
    const url = page.getByRole('textbox', { name: 'Service URL' });
    const current = await url.inputValue();
    await url.fill('timebox.example.com');
    await page.getByText('Enter an http or https URL.').waitFor();
    expect(await page.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await url.fill(current);
    expect(await captureView(world, page, 'settings')).toEqual([]);

    await page.getByRole('button', { name: 'Sign out…' }).click();
    const confirm = page.getByRole('dialog', { name: 'Sign out of Timebox?' });
    await confirm.waitFor();
    expect(await page.locator(':focus').textContent()).toBe('Cancel');
    expect(await captureView(world, page, 'sign-out-confirm')).toEqual([]);
    await confirm.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Timebox' }).waitFor();
    expect(carol.desktop.core.store.state.session.status).toBe('signed-out');
  });
});
