import { describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { keychainAvailable } from '../support/keychain.js';
import { captureView } from './support/look.js';
import { signIn } from './support/people.js';
import { suiteWorld } from './support/world.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;

/**
 * An administrator's Insights screen on the real core and service, in Chromium: the advice with a link to
 * its evidence, the seat pool charted with uPlot (hover values, both themes) and the sortable role table.
 */
describe.runIf(keychainAvailable)('Insights, on the real core and service', () => {
  const world = suiteWorld();

  async function requestAs(
    user: string,
    resourceId: string,
    role: string,
    seconds: number,
  ): Promise<RequestView> {
    const answer = await world.api.post<RequestView>('/v1/requests', await world.api.login(user), {
      resourceId,
      role,
      durationSeconds: seconds,
      reason: '',
    });
    if (answer.status >= 300) throw new Error(`${user}'s request answered ${answer.status}`);
    return answer.body;
  }

  async function giveBack(user: string, grantId: string | null): Promise<void> {
    const answer = await world.api.post<GrantView>(
      `/v1/grants/${grantId ?? ''}/revoke`,
      await world.api.login(user),
      {},
    );
    expect(answer.status).toBe(200);
  }

  it(
    'an administrator sees what to change with its evidence, the seats over time and every role, sortable',
    { timeout: 240_000 },
    async () => {
      // sandbox/operator: five grants of the 5-minute default given back after 30 s, never fetched.
      for (let index = 0; index < 5; index++) {
        const granted = await requestAs('alice', 'sandbox', 'operator', 300);
        await world.advance(30 * SECOND);
        await giveBack('alice', granted.grantId);
      }
      // CAD Studio's two seats: bob and carol take them, alice waits for bob's, given back 30 min in.
      const bobs = await requestAs('bob', 'design-suite', 'seat', 3600);
      await requestAs('carol', 'design-suite', 'seat', 3600);
      expect(await requestAs('alice', 'design-suite', 'seat', 3600)).toMatchObject({ status: 'queued' });
      await world.advance(30 * MINUTE);
      await giveBack('bob', bobs.grantId);
      await world.advance(90 * MINUTE);

      const admin = await world.open('main');
      await signIn(admin, 'admin');
      const { page } = admin;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Insights' })
        .click();
      const advice = page.getByRole('list').filter({ hasText: 'Shorten the default' });
      await advice
        .getByText(
          'Half the grants of sandbox/operator ended within 30s, yet its default is 5m: set the default to 1m.',
        )
        .waitFor();
      expect(await advice.innerText()).toContain('5 of 5 grants of sandbox/operator were never used');

      // The link to the evidence brings the role's row into view and gives it focus.
      await advice.getByRole('link', { name: 'See the evidence' }).first().click();
      const row = page.getByRole('row', { name: /^sandbox\/operator/ });
      expect(await page.locator('tr:focus').innerText()).toMatch(/^sandbox\/operator/);
      expect(await row.innerText()).toMatch(/sandbox\/operator\s+5\s+5 \(5\)/);

      // Sorting: by use, longest first, then shortest first.
      const table = page.getByRole('table', { name: /Each role’s requests/ });
      const firstRole = async (): Promise<string> =>
        (await table.getByRole('rowheader').first().innerText()).trim();
      const used = table.getByRole('columnheader', { name: 'Used (p50)' });
      await used.getByRole('button').click();
      expect(await used.getAttribute('aria-sort')).toBe('descending');
      expect(await firstRole()).toBe('design-suite/seat');
      await used.getByRole('button').click();
      expect(await used.getAttribute('aria-sort')).toBe('ascending');
      expect(await firstRole()).toBe('sandbox/operator');

      // The chart: hovering the plot shows the counts at that instant in the legend.
      const chart = page.getByRole('figure', { name: /CAD Studio · seat/ });
      expect(await chart.innerText()).toContain('Peak 2 of 2 seats · longest line 1');
      const plot = chart.locator('.u-over');
      const box = await plot.boundingBox();
      if (!box) throw new Error('the chart has no plot area');
      await page.mouse.move(box.x + box.width - 3, box.y + box.height / 2);
      const legend = await chart.locator('.u-legend').innerText();
      expect(legend).toMatch(/In use\s*\d/);
      expect(legend).toMatch(/Queued\s*\d/);
      expect(await captureView(world, page, 'insights')).toEqual([]);
      expect(world.pageErrors).toEqual([]);
    },
  );
});
