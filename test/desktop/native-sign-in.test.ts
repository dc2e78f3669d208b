import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../api/errors.js';
import { nativeSignIn } from '../../api/native-sign-in.js';
import type { Policy } from '../../server/index.js';
import { Browser, type Landing } from '../support/browser.js';
import { memoryKeychain, startDesktop } from '../support/desktop.js';
import { acmeProvider, type RunningIdp, startIdp } from '../support/oidc-idp.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

const CLIENT_SECRET = 'native-sign-in-client-secret';

/** The demo organisation, whose sandbox/operator asks for MFA, with Acme's provider. */
async function withIdp(issuer: string): Promise<Policy> {
  const demo = await demoOrganisation();
  const sandbox = demo.resources.get('sandbox');
  const operator = sandbox?.roles.get('operator');
  if (!sandbox || !operator) throw new Error('the demo has no sandbox/operator');
  const resources = new Map([
    ...demo.resources,
    ['sandbox', { ...sandbox, roles: new Map([['operator', { ...operator, mfaRequired: true }]]) }],
  ]);
  return {
    ...demo,
    resources,
    identity: {
      password: true,
      provisioning: 'jit',
      scimTokenHash: null,
      oidc: [
        acmeProvider(issuer, CLIENT_SECRET, {
          groupMap: new Map([['eng-all', 'engineers']]),
          mfaAmr: ['otp'],
        }),
      ],
    },
  };
}

/** The loopback redirect and state the client put in the start URL it opened the browser at. */
function loopbackOf(startUrl: string): { redirect: string; state: string } {
  const url = new URL(startUrl);
  return { redirect: url.searchParams.get('redirect_uri') ?? '', state: url.searchParams.get('state') ?? '' };
}

describe('native sign-in through the system browser (RFC 8252)', () => {
  let idp: RunningIdp;
  let running: RunningService;

  beforeAll(async () => {
    idp = await startIdp({
      erin: {
        password: 'erin-pw',
        otp: '246810',
        claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['eng-all'] },
      },
    });
    running = await startService({ kind: 'pglite', policy: await withIdp(idp.issuer) });
    idp.register({
      clientId: 'timebox',
      clientSecret: CLIENT_SECRET,
      redirectUri: `${running.url}/v1/auth/oidc/acme/callback`,
    });
  });
  afterAll(async () => {
    await running.stop();
    await idp.stop();
  });

  it('signs in through the provider’s login page and leaves the tab on a page that says to close it', async () => {
    // Filled in by the browser opener: the tab the person signs in in.
    const browsing: { tab?: Promise<Landing> } = {};
    const session = await nativeSignIn({
      serviceUrl: running.url,
      provider: 'acme',
      openBrowser: async (url) => {
        expect(loopbackOf(url).redirect).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
        const browser = new Browser();
        browsing.tab = browser
          .open(url, () => false)
          .then((login) =>
            browser.submit(login, { username: 'erin', password: 'erin-pw', otp: '' }, () => false),
          );
      },
    });
    expect(session.user).toMatchObject({ id: 'erin', groups: ['engineers'] });
    const me = await running.api.get<{ authMethod: string }>('/v1/me', session.token);
    expect(me.body.authMethod).toBe('oidc:acme');
    const landing = await browsing.tab;
    expect(landing?.kind === 'page' ? landing.html : '').toContain('You can close this tab');
  });

  it('ignores callbacks with another state, and fails with the provider’s error', async () => {
    let failurePage = '';
    const signIn = nativeSignIn({
      serviceUrl: running.url,
      provider: 'acme',
      openBrowser: async (url) => {
        const { redirect, state } = loopbackOf(url);
        expect((await fetch(`${redirect}?state=forged&code=stolen`)).status).toBe(404);
        const failed = await fetch(
          `${redirect}?state=${state}&error=access_denied&error_description=${encodeURIComponent('Not assigned to Timebox.')}`,
        );
        failurePage = await failed.text();
      },
    });
    await expect(signIn).rejects.toMatchObject({
      code: 'access_denied',
      message: 'Not assigned to Timebox.',
    });
    expect(failurePage).toContain('Sign-in failed');
  });

  it('fails with the service’s refusal of the code, and stops listening', async () => {
    let redirect = '';
    const signIn = nativeSignIn({
      serviceUrl: running.url,
      provider: 'acme',
      openBrowser: async (url) => {
        const loopback = loopbackOf(url);
        redirect = loopback.redirect;
        await fetch(`${redirect}?state=${loopback.state}&code=made-up`);
      },
    });
    await expect(signIn).rejects.toMatchObject({ code: 'invalid_grant', status: 400 });
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it('gives up when the person never comes back, and when cancelled', async () => {
    const timedOut = nativeSignIn({
      serviceUrl: running.url,
      provider: 'acme',
      timeoutMs: 20,
      openBrowser: async () => undefined,
    });
    await expect(timedOut).rejects.toBeInstanceOf(ServiceError);
    await expect(timedOut).rejects.toMatchObject({ code: 'sign_in_timeout' });
    const controller = new AbortController();
    const cancelled = nativeSignIn({
      serviceUrl: running.url,
      provider: 'acme',
      signal: controller.signal,
      openBrowser: async () => {
        controller.abort();
      },
    });
    await expect(cancelled).rejects.toMatchObject({ code: 'sign_in_cancelled' });
  });

  it('signs in again with max_age when a role needs MFA, and retries the request', async () => {
    // The max_age of each opening of the browser; the second sign-in uses the one-time code.
    const openings: string[] = [];
    const desktop = await startDesktop({
      serviceUrl: running.url,
      clock: running.clock,
      keychain: memoryKeychain(),
      openBrowser: async (url) => {
        const otp = openings.length === 0 ? '' : '246810';
        openings.push(new URL(url).searchParams.get('max_age') ?? 'none');
        const browser = new Browser();
        void browser
          .open(url, () => false)
          .then((login) =>
            browser.submit(login, { username: 'erin', password: 'erin-pw', otp }, () => false),
          );
      },
    });
    try {
      expect(await desktop.core.signInWithProvider({ provider: 'acme' })).toMatchObject({
        status: 'signed-in',
      });
      const request = await desktop.core.requestAccess({
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 600,
        reason: 'deploy',
        idempotencyKey: randomUUID(),
      });
      expect(request.status).toBe('approved');
      expect(openings).toEqual(['none', '0']);
    } finally {
      await desktop.stop();
    }
  });
});
