import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestView } from '../../api/schemas.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { Browser } from '../support/browser.js';
import { DATABASES } from '../support/databases.js';
import { keychainAvailable } from '../support/keychain.js';
import { acmeProvider, startIdp, type RunningIdp } from '../support/oidc-idp.js';
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
  otp: '135790',
  claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['eng-all'] },
};

/** The demo, with sandbox/operator asking for a second factor (a step-up for a password-only sign-in). */
async function withIdp(issuer: string): Promise<Policy> {
  const demo = await demoOrganisation();
  const sandbox = demo.resources.get('sandbox');
  const operator = sandbox?.roles.get('operator');
  if (!sandbox || !operator) throw new Error('the demo has no sandbox/operator');
  const roles = new Map([...sandbox.roles, ['operator', { ...operator, mfaRequired: true }]]);
  return {
    ...demo,
    resources: new Map([...demo.resources, ['sandbox', { ...sandbox, roles }]]),
    identity: {
      password: true,
      oidc: [
        acmeProvider(issuer, CLIENT_SECRET, {
          groupMap: new Map([['eng-all', 'engineers']]),
          mfaAmr: ['mfa', 'otp'],
        }),
      ],
      provisioning: 'jit',
      scimTokenHash: null,
    },
  };
}

/** The sign-in address in what the command printed. */
function addressIn(text: string): string | null {
  return /(http:\/\/\S+\/v1\/auth\/oidc\/acme\/start\?\S+)/.exec(text)?.[1] ?? null;
}

/** What the person does in the browser at `address`: the provider's form, then back to the command. */
async function signInInBrowser(address: string, otp = ''): Promise<void> {
  const loopback = new URL(address).searchParams.get('redirect_uri') ?? '';
  const atLoopback = (location: string): boolean => location.startsWith(loopback);
  const browser = new Browser();
  const loginPage = await browser.open(address, atLoopback);
  const end = await browser.submit(loginPage, { username: 'erin', password: ERIN.password, otp }, atLoopback);
  if (end.kind !== 'redirect') throw new Error(`the sign-in ended on a page: ${end.html.slice(0, 300)}`);
  // The browser arrives at the command's listener, which answers with the "you can close this tab" page.
  const tab = await fetch(end.location);
  expect(await tab.text()).toContain('You are signed in');
}

/** Reads the address `login --sso --no-browser` printed and signs in there. */
async function signInAsPerson(command: Running): Promise<void> {
  await command.shows(/\/start\?\S+\n/);
  const address = addressIn(command.stderr());
  if (address === null) throw new Error(`no sign-in address in: ${command.stderr()}`);
  await signInInBrowser(address);
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

const scriptAvailable = spawnSync('sh', ['-c', 'command -v script']).status === 0;

describe.runIf(keychainAvailable && scriptAvailable).each(DATABASES)(
  'step-up from the command line on %s',
  (kind) => {
    let idp: RunningIdp;
    let service: RunningService;
    let keychainService: string;
    let env: Record<string, string>;
    let openerDirectory: string;
    const kept = async (): Promise<{ token: string }> =>
      JSON.parse((await keytarKeychain(keychainService).get('session')) ?? 'null') as { token: string };
    const mine = async (token: string): Promise<RequestView[]> =>
      (await service.api.get<{ items: RequestView[] }>('/v1/requests?scope=mine', token)).body.items;

    beforeAll(async () => {
      idp = await startIdp({ erin: ERIN });
      service = await startService({ kind, policy: await withIdp(idp.issuer) });
      idp.register({
        clientId: 'timebox',
        clientSecret: CLIENT_SECRET,
        redirectUri: `${service.url}/v1/auth/oidc/acme/callback`,
      });
      // The system's browser opener, replaced by one that writes down the address it was given.
      openerDirectory = mkdtempSync(join(tmpdir(), 'timebox-opener-'));
      writeFileSync(
        join(openerDirectory, 'xdg-open'),
        '#!/bin/sh\nprintf "%s\\n" "$1" >> "$TIMEBOX_TEST_OPENED"\n',
        {
          mode: 0o755,
        },
      );
    });
    afterAll(async () => {
      rmSync(openerDirectory, { recursive: true, force: true });
      await service.stop();
      await idp.stop();
    });
    beforeEach(async () => {
      keychainService = `Timebox-cli-step-up-test-${Math.random().toString(16).slice(2, 10)}`;
      env = {
        TIMEBOX_SERVER: service.url,
        TIMEBOX_KEYCHAIN_SERVICE: keychainService,
        TIMEBOX_TEST_OPENED: join(openerDirectory, `opened-${keychainService}`),
        PATH: `${openerDirectory}:${process.env.PATH ?? ''}`,
      };
      const login = startTimebox(timebox, ['login', '--sso', 'acme', '--no-browser'], env);
      await signInAsPerson(login); // with the password only: no second factor
      expect((await login.finished).code).toBe(0);
    });
    afterEach(async () => {
      await keytarKeychain(keychainService).delete('session');
    });

    it('without a terminal, says which sign-in to run for a role that needs a second factor: exit 5, nothing asked', async () => {
      const result = await runTimebox(
        timebox,
        ['request', 'sandbox/operator', '--reason', 'INC-no-tty'],
        env,
      );
      expect(result.code).toBe(5);
      expect(result.stderr).toContain('sandbox/operator needs a sign-in with a second factor');
      expect(result.stderr).toContain(
        `Run: timebox login --sso acme --max-age 0 --server ${service.url}, then this command again.`,
      );
      expect(await mine((await kept()).token)).toEqual([]);
    });

    it('at a terminal, signs in again at the provider with max_age and then takes the request', async () => {
      const before = (await kept()).token;
      const line = ['node', timebox.path, 'request', 'sandbox/operator', '--reason', 'INC-step-up']
        .map((word) => `'${word}'`)
        .join(' ');
      const terminal = spawn('script', ['-qec', line, '/dev/null'], {
        env: { ...process.env, TIMEBOX_TOKEN: '', ...env },
      });
      let output = '';
      terminal.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const finished = new Promise<number | null>((resolve) => terminal.on('close', resolve));

      // The command opened "the browser": the address has max_age, and the person signs in with the code.
      let opened: string | null = null;
      while (opened === null) {
        if (terminal.exitCode !== null) throw new Error(`ended before opening a browser:\n${output}`);
        opened = existsSync(env.TIMEBOX_TEST_OPENED ?? '')
          ? addressIn(readFileSync(env.TIMEBOX_TEST_OPENED ?? '', 'utf8'))
          : null;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(new URL(opened).searchParams.get('max_age')).toBe('0');
      await signInInBrowser(opened, ERIN.otp);

      expect(await finished, output).toBe(0);
      expect(output).toContain('sandbox/operator needs a sign-in with a second factor');
      expect(output).toMatch(/Request req_\S+ for sandbox\/operator: /);
      const after = (await kept()).token;
      expect(after).not.toBe(before);
      expect((await service.api.get<{ mfa: boolean }>('/v1/me', after)).body.mfa).toBe(true);
      const asked = await mine(after);
      expect(asked.map((request) => request.reason)).toEqual(['INC-step-up']);
    });
  },
);
