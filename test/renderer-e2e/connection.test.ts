import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { signIn } from './support/people.js';
import { waitFor, World } from './support/world.js';

describe.runIf(keychainAvailable)('the service going away and coming back', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.start();
  });
  afterAll(async () => {
    await world.stop();
  });

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
      await line.waitFor();
      // The next attempt fails too: the app falls back to checking every 15 s, and says so.
      await world.advance(1000);
      await waitFor(() => connection() === 'polling', 'polling');
      await line.filter({ hasText: 'Live updates paused' }).waitFor();
      // The grant keeps counting down meanwhile.
      await page
        .getByRole('article', { name: 'Sandbox cluster · operator' })
        .locator('.countdown-text')
        .waitFor();
      expect(await captureView(world, page, 'popover-offline')).toEqual([]);

      await world.startService();
      // Time moves on until the app's next attempt, which finds the service again.
      for (let step = 0; step < 20 && connection() !== 'live'; step += 1) await world.advance(1000);
      expect(connection()).toBe('live');
      await expect.poll(() => line.count()).toBe(0);
      await page.getByText('Credential in your keychain.').waitFor();
    },
  );
});
