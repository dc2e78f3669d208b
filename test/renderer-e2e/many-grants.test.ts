import { describe, expect, it } from 'vitest';
import { EVERY_CARD_UP_TO } from '../../renderer/views/access/grant-list-size.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { signIn } from './support/people.js';
import { suiteWorld, waitFor, type Person, type World } from './support/world.js';

const SANDBOX = 'Sandbox cluster · operator';
const MANY = 120;

/** Scrolls the window's page to `y` (the page itself scrolls; the window has no inner scroller). */
function scrollPage(page: Person['page'], y: number): Promise<void> {
  return page.evaluate((top) => {
    (globalThis as unknown as { scrollTo(x: number, y: number): void }).scrollTo(0, top);
  }, y);
}

/** Has the service grant `count` sandbox grants to `username`, the nth (from 0) lasting `seconds(n)`. */
async function grantSandbox(
  world: World,
  username: string,
  count: number,
  seconds: (index: number) => number,
): Promise<void> {
  const token = await world.api.login(username);
  for (let index = 0; index < count; index += 1) {
    const created = await world.api.post('/v1/requests', token, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: seconds(index),
      reason: `batch job ${index + 1}`,
    });
    if (created.status !== 201) throw new Error(`request ${index + 1} answered ${created.status}`);
  }
}

async function withGrants(person: Person, count: number): Promise<void> {
  await waitFor(
    () =>
      person.desktop.core.store.state.grants.filter(
        (grant) => grant.status === 'active' && grant.credential === 'stored',
      ).length === count,
    `${count} grants with their credentials on the desktop`,
  );
}

describe.runIf(keychainAvailable)('My access with many grants', () => {
  const world = suiteWorld();

  it(
    'draws only the cards near the view, and every grant is reachable by scrolling or from a notification',
    { timeout: 180_000 },
    async () => {
      const dave = await world.open('main');
      await signIn(dave, 'dave');
      // From 11 minutes to just under the sandbox's limit of an hour.
      await grantSandbox(world, 'dave', MANY, (index) => 660 + index * 24);
      await withGrants(dave, MANY);
      const { page } = dave;
      const cards = page.getByRole('article', { name: SANDBOX });
      // Main's pushes reach the window as they come: wait for the list of all of them.
      await page.locator(`.grant-list > li[aria-setsize="${MANY}"]`).first().waitFor();

      // The list says how long it is; far fewer cards than grants are in the page.
      const items = page.locator('.grant-list > li');
      expect(await items.first().getAttribute('aria-setsize')).toBe(String(MANY));
      expect(await items.first().getAttribute('aria-posinset')).toBe('1');
      const drawn = await cards.count();
      expect(drawn).toBeGreaterThan(2);
      expect(drawn).toBeLessThan(30);
      // Nearest expiry first: the first card ends in 11 minutes, and its countdown is drawn.
      await expect.poll(() => cards.first().locator('.countdown-text').innerText()).toBe('11 min');
      const byExpiry = dave.desktop.core.store.state.grants
        .filter((grant) => grant.status === 'active')
        .sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
      const endOf = (item: ReturnType<typeof page.locator>) =>
        item.locator('time').first().getAttribute('datetime');
      expect(await captureView(world, page, 'access-many-grants', { windowOnly: true })).toEqual([]);

      // Scrolled to the end, the last grant (the latest expiry) is drawn, counting down like the first.
      await scrollPage(page, 1_000_000);
      const last = page.locator(`.grant-list > li[aria-posinset="${MANY}"]`);
      await last.waitFor();
      expect(await endOf(last)).toBe(byExpiry[MANY - 1]?.expiresAt);
      expect(await last.locator('.countdown-text').innerText()).toMatch(/^5\d min$/);
      expect(await last.getByRole('button', { name: `Relinquish ${SANDBOX}` }).isVisible()).toBe(true);

      // Back to the top; a notification about a grant in the middle of the list scrolls to it and marks it.
      await scrollPage(page, 0);
      await page.locator('.grant-list > li[aria-posinset="1"]').waitFor();
      const middle = byExpiry[MANY / 2];
      if (!middle) throw new Error('no grant in the middle of the list');
      dave.desktop.core.navigate({ view: 'access', grantId: middle.id });
      const highlighted = page.locator('.grant-list > li.highlighted');
      await highlighted.waitFor();
      expect(await highlighted.getAttribute('aria-posinset')).toBe(String(MANY / 2 + 1));
      expect(await highlighted.isVisible()).toBe(true);
      expect(await endOf(highlighted)).toBe(middle.expiresAt);
      expect(await highlighted.locator('.countdown-text').innerText()).toMatch(/^\d+ min$/);
      const box = await highlighted.boundingBox();
      const viewport = page.viewportSize();
      expect(box && viewport && box.y >= 0 && box.y + box.height <= viewport.height).toBe(true);
    },
  );

  it(
    `up to ${EVERY_CARD_UP_TO} grants, every card is in the page (find in page sees them all)`,
    { timeout: 180_000 },
    async () => {
      const carol = await world.open('main');
      await signIn(carol, 'carol');
      await grantSandbox(world, 'carol', EVERY_CARD_UP_TO, () => 1800);
      await withGrants(carol, EVERY_CARD_UP_TO);
      const cards = carol.page.getByRole('article', { name: SANDBOX });
      await expect.poll(() => cards.count(), { timeout: 30_000 }).toBe(EVERY_CARD_UP_TO);
      expect(await carol.page.locator('.grant-list > li[aria-setsize]').count()).toBe(0);

      // One more grant: the same list, now drawn in part.
      await grantSandbox(world, 'carol', 1, () => 3000);
      await withGrants(carol, EVERY_CARD_UP_TO + 1);
      await expect.poll(() => cards.count(), { timeout: 30_000 }).toBeLessThan(EVERY_CARD_UP_TO);
      expect(await carol.page.locator('.grant-list > li').first().getAttribute('aria-setsize')).toBe(
        String(EVERY_CARD_UP_TO + 1),
      );
    },
  );
});
