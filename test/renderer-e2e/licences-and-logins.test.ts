import { describe, expect, it } from 'vitest';
import { grantAccount } from '../../main/core/keychain-accounts.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { keychainAvailable } from '../support/keychain.js';
import { demoWithAnalytics, standInPostgresIssuer } from '../desktop/database-logins.js';
import { captureView } from './support/look.js';
import { signIn } from './support/people.js';
import { suiteWorld } from './support/world.js';

const MINUTE = 60_000;
const LOGIN = 'Analytics database · read';

/**
 * Two things beyond one's own access: an administrator's Licences view (how the seat pools were used),
 * and a grant whose credential is a database login (Copy connection URI, Open psql). The service runs
 * the demo organisation with its PostgreSQL resource, whose issuer is a stand-in here (no database
 * server needed); test/desktop/core-postgres.test.ts covers a real one.
 */
describe.runIf(keychainAvailable)('Licences and database logins, on the real core and service', () => {
  const world = suiteWorld({
    organisation: demoWithAnalytics,
    issuers: new Map([['postgres', standInPostgresIssuer().factory]]),
  });

  /** Asks for access as `user` straight through the API, as another of their devices would. */
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

  it(
    'an administrator reads how the seat pools were used, over the period they pick',
    { timeout: 180_000 },
    async () => {
      // An hour of CAD Studio's two seats: bob and carol take them, alice queues and gets bob's seat when
      // he gives it up half an hour in.
      const bobs = await requestAs('bob', 'design-suite', 'seat', 3600);
      await requestAs('carol', 'design-suite', 'seat', 3600);
      expect(await requestAs('alice', 'design-suite', 'seat', 3600)).toMatchObject({ status: 'queued' });
      await world.advance(30 * MINUTE);
      const revoked = await world.api.post<GrantView>(
        `/v1/grants/${bobs.grantId ?? ''}/revoke`,
        await world.api.login('bob'),
        {},
      );
      expect(revoked.status).toBe(200);
      await world.advance(15 * MINUTE);

      const admin = await world.open('main');
      await signIn(admin, 'admin');
      const { page } = admin;
      await page
        .getByRole('navigation', { name: 'Timebox' })
        .getByRole('button', { name: 'Licences' })
        .click();
      const pool = page.getByRole('article', { name: 'CAD Studio' });
      // The last 7 days: one named seat for each of the three, held all week, against 1.5 seat-hours used.
      await pool.getByText('Named seats would have held 502.5 seat-hours idle').waitFor();
      const text = await pool.innerText();
      expect(text).toMatch(/Peak in use\s+2 of 2/);
      expect(text).toMatch(/Seat-hours used\s+1\.5/);
      expect(text).toMatch(/Grants\s+3 by 3 people/);
      expect(text).toMatch(/Requests queued\s+1/);
      expect(text).toMatch(/Longest\s+30 min/);
      expect(await captureView(world, page, 'licences')).toEqual([]);

      await page.getByRole('group', { name: 'Period' }).getByRole('button', { name: '24 hours' }).click();
      await pool.getByText('Named seats would have held 70.5 seat-hours idle').waitFor();
      expect(await page.getByRole('button', { name: '24 hours' }).getAttribute('aria-pressed')).toBe('true');
    },
  );

  it(
    'a database login offers Copy connection URI and Open psql; the URI goes to the clipboard, never the window',
    { timeout: 180_000 },
    async () => {
      const alice = await world.open('main');
      await signIn(alice, 'alice');
      const { page } = alice;
      const granted = await requestAs('alice', 'analytics-db', 'read', 15 * 60);
      const card = page.getByRole('article', { name: LOGIN });
      await card.getByText('Database login in your keychain.').waitFor();
      expect(await card.getByRole('button', { name: `Copy credential for ${LOGIN}` }).count()).toBe(0);

      await card.getByRole('button', { name: `Copy connection URI for ${LOGIN}` }).click();
      await page.getByText('Connection URI copied. Timebox clears it from the clipboard in 30 s.').waitFor();
      const stored = JSON.parse((await alice.keychain.get(grantAccount(granted.grantId ?? ''))) ?? '{}') as {
        secret?: { uri?: string; password?: string };
      };
      expect(alice.wired.clipboard.text).toBe(stored.secret?.uri);
      expect(await page.content()).not.toContain(stored.secret?.password ?? 'no password stored');
      expect(await captureView(world, page, 'database-login')).toEqual([]);

      // This core runs without a terminal to open (as a headless one would): it says what to do instead.
      await card.getByRole('button', { name: `Open psql for ${LOGIN}` }).click();
      await page
        .getByRole('alert')
        .getByText(
          'Timebox cannot open a terminal here. Use Copy connection URI and paste it into your PostgreSQL client.',
        )
        .waitFor();
      expect(await captureView(world, page, 'database-login-psql-refused', { keepBanner: true })).toEqual([]);
      expect(alice.wired.calls).toEqual(expect.arrayContaining(['copyConnectionUri', 'openPsql']));
      expect(alice.wired.calls).not.toContain('revealCredential');
    },
  );
});
