import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { Browser } from '../support/browser.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { startIdp, type RunningIdp } from '../support/oidc-idp.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';
import {
  buildTimebox,
  runTimebox,
  startTimebox,
  type BuiltCommand,
  type Running,
} from '../support/timebox-command.js';

/**
 * `timebox login --sso`: the built binary against the real service and panva's oidc-provider as the
 * company's provider. The test is the person's browser: it opens the address the command prints
 * (--no-browser), fills in the provider's login form and follows the redirect back to the command's
 * loopback listener.
 */
// The policy type is the service's own: named through the test support, not imported from server/.
type Policy = Awaited<ReturnType<typeof demoOrganisation>>;

const CLIENT_SECRET = 'stand-in-client-secret-cli-5d2e';
const ERIN = {
  password: 'erin-idp-password',
  claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['eng-all'] },
};

async function withIdp(issuer: string): Promise<Policy> {
  return {
    ...(await demoOrganisation()),
    identity: {
      password: true,
      oidc: [
        {
          id: 'acme',
          name: 'Acme SSO',
          issuer,
          clientId: 'timebox',
          clientSecret: CLIENT_SECRET,
          scopes: ['openid', 'profile', 'email', 'groups'],
          usernameClaim: 'preferred_username',
          groupsClaim: 'groups',
          groupMap: new Map([['eng-all', 'engineers']]),
          mfaAmr: ['mfa', 'otp'],
        },
      ],
      provisioning: 'jit',
      scimTokenHash: null,
    },
  };
}

/** Reads the sign-in address the command printed, and does what the person does in the browser. */
async function signInAsPerson(command: Running, password = ERIN.password): Promise<void> {
  await command.shows(/\/start\?\S+\n/);
  const address = /(http:\/\/\S+\/v1\/auth\/oidc\/acme\/start\?\S+)\n/.exec(command.stderr())?.[1];
  if (address === undefined) throw new Error(`no sign-in address in: ${command.stderr()}`);
  const loopback = new URL(address).searchParams.get('redirect_uri') ?? '';
  const atLoopback = (location: string): boolean => location.startsWith(loopback);
  const browser = new Browser();
  const loginPage = await browser.open(address, atLoopback);
  const end = await browser.submit(loginPage, { username: 'erin', password, otp: '' }, atLoopback);
  if (end.kind !== 'redirect') throw new Error(`the sign-in ended on a page: ${end.html.slice(0, 300)}`);
  // The browser arrives at the command's listener, which answers with the "you can close this tab" page.
  const tab = await fetch(end.location);
  expect(await tab.text()).toMatch(/You are signed in|Sign-in failed/);
}

let timebox: BuiltCommand;
beforeAll(() => {
  timebox = buildTimebox();
});
afterAll(() => {
  timebox.remove();
});

if (!keychainAvailable) console.warn('sso-login.test.ts signs in only with the real OS keychain.');

describe.runIf(keychainAvailable).each(DATABASES)('timebox login --sso on %s', (kind) => {
  let idp: RunningIdp;
  let service: RunningService;
  let keychainService: string;
  let env: Record<string, string>;
  const sessionEntry = () => keytarKeychain(keychainService).get('session');

  beforeAll(async () => {
    idp = await startIdp({ erin: ERIN });
    service = await startService({ kind, policy: await withIdp(idp.issuer) });
    idp.register({
      clientId: 'timebox',
      clientSecret: CLIENT_SECRET,
      redirectUri: `${service.url}/v1/auth/oidc/acme/callback`,
    });
  });
  afterAll(async () => {
    await service.stop();
    await idp.stop();
  });
  beforeEach(() => {
    keychainService = `Timebox-cli-sso-test-${Math.random().toString(16).slice(2, 10)}`;
    env = { TIMEBOX_SERVER: service.url, TIMEBOX_KEYCHAIN_SERVICE: keychainService };
  });
  afterEach(async () => {
    await keytarKeychain(keychainService).delete('session');
  });

  it('signs in through the provider with --no-browser, keeps the session in the keychain, says who', async () => {
    const command = startTimebox(timebox, ['login', '--sso', 'acme', '--no-browser'], env);
    await signInAsPerson(command);
    const result = await command.finished;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Open this address in a browser to sign in with acme:');
    expect(result.stdout).toMatch(
      new RegExp(`^Signed in to ${service.url} as erin \\(Erin Sato\\) with acme until `),
    );
    const kept = JSON.parse((await sessionEntry()) ?? 'null') as { token: string; username: string };
    expect(kept.username).toBe('erin');

    const whoami = await runTimebox(timebox, ['whoami', '--json'], env);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({ username: 'erin', groups: ['engineers'] });
  });

  it('names the providers the service offers for an unknown one: exit 1, no address, nothing kept', async () => {
    const result = await runTimebox(timebox, ['login', '--sso', 'okta', '--no-browser'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'timebox: This service has no identity provider "okta"; it offers acme (Acme SSO).\n',
    );
    expect(await sessionEntry()).toBeNull();
  });

  it('gives up on a sign-in left unfinished in the browser: exit 5, a clear sentence, nothing kept', async () => {
    const result = await runTimebox(timebox, ['login', '--sso', 'acme', '--no-browser'], {
      ...env,
      TIMEBOX_SSO_TIMEOUT: '1',
    });
    expect(result.code).toBe(5);
    expect(result.stderr).toContain(
      'timebox: The sign-in in the browser was not finished within 1 s; run the command again.',
    );
    expect(await sessionEntry()).toBeNull();
  });

  it('refuses a TIMEBOX_SSO_TIMEOUT that is no number of seconds with exit 2, before any browser', async () => {
    const result = await runTimebox(timebox, ['login', '--sso', 'acme', '--no-browser'], {
      ...env,
      TIMEBOX_SSO_TIMEOUT: 'soon',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TIMEBOX_SSO_TIMEOUT "soon" is not a number of seconds.');
    expect(result.stderr).not.toContain('/start?');
  });
});
