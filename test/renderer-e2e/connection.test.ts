import { describe, expect, it } from 'vitest';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { signIn } from './support/people.js';
import { suiteWorld, waitFor } from './support/world.js';

describe.runIf(keychainAvailable)('the service going away and coming back', () => {
  const world = suiteWorld();

  it(
    'shows a quiet line while offline and recovers on the same data and port',
    { timeout: 180_000 },
    async () => {
      const alice = await world.open('popover');
      await signIn(alice, 'alice');
      const { page } = alice;
      await page.getByRole('button', { name: 'Request access' }).click();
      await page.getByRole('combobox', { name: 'Resource and role' }).fill('sandbox');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Get access' }).click();
      await page.getByText('Credential in your keychain.').waitFor();
      const connection = () => alice.desktop.core.store.state.connection.status;
      await waitFor(() => connection() === 'live', 'the live connection');

      await world.stopService();
      const line = page.getByRole('status').filter({ hasText: /Reconnecting|Live updates paused|Offline/ });
      await line.filter({ hasText: 'Reconnecting' }).waitFor();
      expect(await captureView(world, page, 'popover-reconnecting')).toEqual([]);
      // The next attempt fails too: the app falls back to checking every 15 s, and says so.
      await world.advance(1000);
      await waitFor(() => connection() === 'polling', 'polling');
      await line.filter({ hasText: 'Live updates paused' }).waitFor();
      // The grant keeps counting down meanwhile.
      await page
        .getByRole('article', { name: 'Sandbox cluster · operator' })
        .locator('.countdown-text')
        .waitFor();
      expect(await captureView(world, page, 'popover-polling')).toEqual([]);
      // The next check fails as well (once its own retries give up): offline, and still calm about it.
      for (let step = 0; step < 60 && connection() !== 'offline'; step += 1) await world.advance(1000);
      expect(connection()).toBe('offline');
      await line.filter({ hasText: 'Offline.' }).waitFor();
      expect(await captureView(world, page, 'popover-offline')).toEqual([]);

      // Retry now, while the service is away: the failure is said in an error banner that stays.
      await line.getByRole('button', { name: 'Retry now' }).click();
      // Main retries a failed read a few times (on its clock) before it gives up and says so.
      await line.getByRole('button', { name: 'Checking…' }).waitFor();
      const banner = page.getByRole('alert');
      for (let step = 0; step < 60 && (await banner.count()) === 0; step += 1) await world.advance(1000);
      await banner.waitFor();
      await line.getByRole('button', { name: 'Retry now' }).waitFor();
      expect(await banner.innerText()).not.toBe('');
      expect(await captureView(world, page, 'popover-error-banner')).toEqual([]);
      await banner.getByRole('button', { name: 'Dismiss message' }).click();
      await expect.poll(() => banner.count()).toBe(0);

      await world.startService();
      // Time moves on until the app's next attempt, which finds the service again.
      for (let step = 0; step < 40 && connection() !== 'live'; step += 1) await world.advance(1000);
      expect(connection()).toBe('live');
      await expect.poll(() => line.count()).toBe(0);
      await page.getByText('Credential in your keychain.').waitFor();
    },
  );
});
