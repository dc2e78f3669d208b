import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../server/index.js';
import { keychainAvailable } from '../support/keychain.js';
import { acmeProvider, type RunningIdp, startIdp } from '../support/oidc-idp.js';
import { demoOrganisation } from '../support/service.js';
import { captureView } from './support/look.js';
import { suiteWorld } from './support/world.js';

const CLIENT_SECRET = 'e2e-sso-client-secret';

describe.runIf(keychainAvailable)('company sign-in in the app', () => {
  let idp: RunningIdp;
  // Before the world starts: the service's policy names the provider's issuer.
  beforeAll(async () => {
    idp = await startIdp({
      erin: {
        password: 'erin-pw',
        claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['eng-all'] },
      },
    });
  });
  afterAll(async () => {
    await idp.stop();
  });
  const world = suiteWorld({
    organisation: async (): Promise<Policy> => ({
      ...(await demoOrganisation()),
      identity: {
        password: true,
        provisioning: 'jit',
        scimTokenHash: null,
        oidc: [acmeProvider(idp.issuer, CLIENT_SECRET, { groupMap: new Map([['eng-all', 'engineers']]) })],
      },
    }),
  });

  it(
    'signs in a person who exists only at the provider, through the system browser',
    { timeout: 120_000 },
    async () => {
      idp.register({
        clientId: 'timebox',
        clientSecret: CLIENT_SECRET,
        redirectUri: `${world.serviceUrl}/v1/auth/oidc/acme/callback`,
      });
      const tabs: Page[] = [];
      const erin = await world.open('main', {
        openBrowser: async (url) => {
          tabs.push(await world.browserTab(url));
        },
      });
      const { page } = erin;
      const sso = page.getByRole('button', { name: 'Sign in with Acme SSO' });
      await sso.waitFor();
      expect(await captureView(world, page, 'sign-in-sso')).toEqual([]);

      await sso.click();
      await page.getByText('Finish signing in in your browser…').waitFor();
      const waitForTab = async (): Promise<Page> => {
        for (let attempt = 0; attempt < 200 && tabs.length === 0; attempt += 1)
          await new Promise((resolve) => setTimeout(resolve, 25));
        const tab = tabs[0];
        if (!tab) throw new Error('the app did not open the browser');
        return tab;
      };
      const tab = await waitForTab();
      await tab.locator('input[name=username]').fill('erin');
      await tab.locator('input[name=password]').fill('erin-pw');
      await tab.getByRole('button', { name: 'Sign in' }).click();
      await tab.getByText('You can close this tab and go back to Timebox.').waitFor();

      await page
        .getByRole('navigation', { name: 'Timebox' })
        .or(page.getByRole('heading', { name: 'Active access' }))
        .waitFor();
      expect(erin.desktop.core.store.state.session.user).toMatchObject({ id: 'erin', groups: ['engineers'] });
    },
  );
});
