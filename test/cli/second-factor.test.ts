import { Secret, TOTP } from 'otpauth';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { hashPassword, parsePolicy } from '../../server/index.js';
import { keychainAvailable } from '../support/keychain.js';
import { startService, TEST_PASSWORD_COST, type RunningService } from '../support/service.js';
import { buildTimebox, runTimebox, type BuiltCommand } from '../support/timebox-command.js';

/** `timebox login` for an account with a TOTP second factor: the real binary, service and keychain. */
let timebox: BuiltCommand;
beforeAll(() => {
  timebox = buildTimebox();
});
afterAll(() => {
  timebox.remove();
});

if (!keychainAvailable) console.warn('second-factor.test.ts signs in only with the real OS keychain.');

describe.runIf(keychainAvailable)('timebox login with a second factor', () => {
  const secret = new Secret({ size: 20 }).base32;
  let service: RunningService;
  let env: Record<string, string>;
  const code = (offsetMs = 0) =>
    new TOTP({ secret, period: 30, digits: 6, algorithm: 'SHA1' }).generate({
      timestamp: service.clock.now() + offsetMs,
    });

  beforeAll(async () => {
    const passwordHash = await hashPassword('demo', TEST_PASSWORD_COST);
    const policy = parsePolicy({
      file: 'commands.test.ts (TOTP)',
      env: { ERIN_TOTP: secret },
      text: `
version: 1
groups: { engineers: {} }
users:
  erin: { displayName: Erin, groups: [engineers], passwordHash: "${passwordHash}", totpSecret: { env: ERIN_TOTP } }
resources: {}
`,
    });
    service = await startService({ kind: 'pglite', policy });
  });
  afterAll(async () => {
    await service.stop();
  });
  beforeEach(() => {
    env = {
      TIMEBOX_SERVER: service.url,
      TIMEBOX_KEYCHAIN_SERVICE: `Timebox-cli-totp-${Math.random().toString(16).slice(2, 10)}`,
    };
  });
  afterEach(async () => {
    await keytarKeychain(env.TIMEBOX_KEYCHAIN_SERVICE ?? '').delete('session');
  });

  it('asks for the code when the service wants one', async () => {
    const result = await runTimebox(timebox, ['login', '-u', 'erin'], env, `demo\n${code()}\n`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('Code from your authenticator app: ');
    expect(result.stdout).toContain('as erin');
  });

  it('takes the code up front with --otp, and refuses a malformed or wrong one with nothing kept', async () => {
    // The next window's code: a code, or an earlier one, cannot be used twice.
    const given = await runTimebox(timebox, ['login', '-u', 'erin', '--otp', code(30_000)], env, 'demo\n');
    expect(given.code, given.stderr).toBe(0);
    expect(given.stderr).not.toContain('Code from your authenticator app');
    await keytarKeychain(env.TIMEBOX_KEYCHAIN_SERVICE ?? '').delete('session');

    const malformed = await runTimebox(timebox, ['login', '-u', 'erin', '--otp', '12ab'], env, 'demo\n');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--otp "12ab" is not a 6-digit code.');
    const wrong = String((Number(code()) + 500_000) % 1_000_000).padStart(6, '0');
    const refused = await runTimebox(timebox, ['login', '-u', 'erin', '--otp', wrong], env, 'demo\n');
    expect(refused.code).toBe(5);
    expect(await keytarKeychain(env.TIMEBOX_KEYCHAIN_SERVICE ?? '').get('session')).toBeNull();
  });
});
