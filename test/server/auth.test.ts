import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createService } from '../../server/app.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { parsePolicy } from '../../server/config/load.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { createTestDatabase, DATABASES } from '../support/databases.js';
import { Api, type ApiResponse } from '../support/http.js';
import { ManualClock } from '../support/manual-clock.js';
import { startService, type RunningService } from '../support/service.js';

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

interface UserBody {
  id: string;
  username: string;
  displayName: string;
  groups: string[];
  isAdmin: boolean;
}

interface LoginBody {
  token: string;
  expiresAt: string;
  user: UserBody;
}

const DEMO_TOKEN_TTL_MS = 8 * 3600 * 1000;
const ACCOUNT_WINDOW_MS = 15 * 60 * 1000;
const TOTP_ENV = 'TIMEBOX_TEST_TOTP_SECRET';

// Distinctive, so a leak into the log is unmistakable.
const PASSWORD = 'Plum-Orbit-Lantern-7391';
const WRONG_PASSWORD = 'Quartz-Meadow-Falcon-2846';
const TOTP_SECRET = new Secret({ size: 20 }).base32;

let passwordHash: Promise<string> | null = null;
/** One scrypt hash per file: hashing takes ~100 ms. */
function passwordHashOnce(): Promise<string> {
  passwordHash ??= hashPassword(PASSWORD);
  return passwordHash;
}

/** erin has a second factor; frank has only a password. Both may use the auto-approved sandbox. */
async function totpPolicy(): Promise<Policy> {
  const hash = await passwordHashOnce();
  return parsePolicy({
    file: 'auth.test.ts (TOTP policy)',
    env: { [TOTP_ENV]: TOTP_SECRET },
    text: `
version: 1
groups:
  engineers: {}
users:
  erin:
    displayName: Erin Sato
    passwordHash: "${hash}"
    totpSecret: { env: ${TOTP_ENV} }
    groups: [engineers]
  frank:
    displayName: Frank Ito
    passwordHash: "${hash}"
    groups: [engineers]
resources:
  sandbox:
    name: Sandbox cluster
    kind: kubernetes
    roles:
      operator:
        requesters: [engineers]
        duration: { min: 10s, default: 5m, max: 1h }
        reasonRequired: false
        approval: auto
`,
  });
}

function totpCode(atMs: number): string {
  return new TOTP({ secret: TOTP_SECRET, period: 30, digits: 6, algorithm: 'SHA1' }).generate({
    timestamp: atMs,
  });
}

/** A six-digit code that is valid in none of the steps the service accepts around `atMs`. */
function wrongTotpCode(atMs: number): string {
  const valid = new Set([totpCode(atMs - 30_000), totpCode(atMs), totpCode(atMs + 30_000)]);
  let candidate = Number(totpCode(atMs));
  let code: string;
  do {
    candidate = (candidate + 1) % 1_000_000;
    code = String(candidate).padStart(6, '0');
  } while (valid.has(code));
  return code;
}

function login(
  api: Api,
  username: string,
  password: string,
  otp?: string,
): Promise<ApiResponse<LoginBody & ErrorBody>> {
  return api.post<LoginBody & ErrorBody>(
    '/v1/auth/login',
    undefined,
    otp === undefined ? { username, password } : { username, password, otp },
  );
}

function expectError(response: ApiResponse, status: number, code: string): ErrorBody {
  const body = response.body as ErrorBody;
  expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
  expect(body.error.message).toMatch(/\S/);
  return body;
}

describe.each(DATABASES)('sign-in and sessions over HTTP on %s', (kind) => {
  let running: RunningService;

  beforeAll(async () => {
    running = await startService({ kind });
  });
  afterAll(async () => {
    await running.stop();
  });
  // Every test starts with the sign-in limiters' windows (15 min per account, 1 min per address) empty.
  beforeEach(async () => {
    await running.advance(ACCOUNT_WINDOW_MS);
  });

  it('signs in with a token, its expiry and the user with groups and admin flag; /v1/me agrees', async () => {
    const { api, clock } = running;
    const alice = await login(api, 'alice', 'demo');
    expect(alice.status).toBe(200);
    expect(alice.headers.get('cache-control')).toBe('no-store');
    expect(alice.body).toEqual({
      token: expect.stringMatching(/^\S{20,}$/) as unknown,
      expiresAt: new Date(clock.now() + DEMO_TOKEN_TTL_MS).toISOString(),
      user: {
        id: 'alice',
        username: 'alice',
        displayName: 'Alice Kim',
        groups: ['engineers'],
        isAdmin: false,
      },
    });
    const me = await api.get<UserBody>('/v1/me', alice.body.token);
    expect(me.status).toBe(200);
    // …and says how and when this session was signed in: a password alone, just now.
    expect(me.body).toEqual({
      ...alice.body.user,
      authMethod: 'password',
      authTime: new Date(clock.now()).toISOString(),
      mfa: false,
    });

    const admin = await login(api, 'admin', 'demo');
    expect(admin.status).toBe(200);
    expect(admin.body.user).toEqual({
      id: 'admin',
      username: 'admin',
      displayName: 'Timebox Admin',
      groups: ['admins'],
      isAdmin: true,
    });
    expect(admin.body.token).not.toBe(alice.body.token);
    const adminMe = await api.get<UserBody>('/v1/me', admin.body.token);
    expect(adminMe.body).toMatchObject(admin.body.user);
  });

  it('answers a wrong password and an unknown user identically: 401 invalid_credentials', async () => {
    const { api } = running;
    const wrongPassword = await login(api, 'alice', 'not-demo');
    const unknownUser = await login(api, 'mallory', 'demo');
    const wrong = expectError(wrongPassword, 401, 'invalid_credentials');
    const unknown = expectError(unknownUser, 401, 'invalid_credentials');
    expect(unknown).toEqual(wrong);
    expect(unknownUser.headers.get('retry-after')).toBeNull();
    expect('token' in wrongPassword.body).toBe(false);
  });

  it('refuses a missing, malformed or unknown token', async () => {
    const { api } = running;
    expectError(await api.get('/v1/me'), 401, 'missing_token');
    expectError(
      await api.call('GET', '/v1/me', { headers: { authorization: 'Basic YWxpY2U6ZGVtbw==' } }),
      401,
      'missing_token',
    );
    expectError(await api.get('/v1/me', 'tbx_not-a-token-we-issued'), 401, 'invalid_token');
  });

  it('logs out with 204: that token is revoked on every route while another session keeps working', async () => {
    const { api } = running;
    const [first, second] = await Promise.all([api.login('alice'), api.login('alice')]);
    const created = await api.post<RequestView>('/v1/requests', first, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: 'x',
    });
    expect(created.status).toBe(201);
    const requestId = created.body.id;
    const grantId = created.body.grantId ?? '';
    expect(grantId).not.toBe('');

    const mineBefore = await api.get<{ items: RequestView[] }>('/v1/requests?scope=mine&limit=200', second);

    const out = await api.post('/v1/auth/logout', first);
    expect(out.status).toBe(204);
    expect(out.body).toBe('');

    const routes: readonly (readonly [string, string, unknown?])[] = [
      ['GET', '/v1/me'],
      ['POST', '/v1/auth/logout'],
      ['GET', '/v1/resources'],
      ['GET', '/v1/requests?scope=mine'],
      ['POST', '/v1/requests', { resourceId: 'sandbox', role: 'operator', durationSeconds: 60, reason: 'x' }],
      ['GET', `/v1/requests/${requestId}`],
      ['POST', `/v1/requests/${requestId}/approve`, {}],
      ['POST', `/v1/requests/${requestId}/deny`, { comment: 'no' }],
      ['POST', `/v1/requests/${requestId}/cancel`],
      ['GET', '/v1/grants'],
      ['GET', `/v1/grants/${grantId}`],
      ['GET', `/v1/grants/${grantId}/credential`],
      ['POST', `/v1/grants/${grantId}/extend`, { durationSeconds: 60, reason: 'x' }],
      ['POST', `/v1/grants/${grantId}/revoke`, {}],
      ['GET', '/v1/events'],
      ['GET', '/v1/audit'],
      ['GET', '/v1/audit/verify'],
      ['GET', '/v1/audit/export'],
    ];
    for (const [method, path, body] of routes) {
      const response = await api.call<ErrorBody>(method, path, {
        token: first,
        ...(body === undefined ? {} : { body }),
      });
      expect({ route: `${method} ${path}`, status: response.status, code: response.body.error.code }).toEqual(
        {
          route: `${method} ${path}`,
          status: 401,
          code: 'token_revoked',
        },
      );
    }

    // The other session of the same user is untouched, and nothing the revoked token tried happened.
    const me = await api.get<UserBody>('/v1/me', second);
    expect(me.status).toBe(200);
    expect(me.body.id).toBe('alice');
    const grant = await api.get<GrantView>(`/v1/grants/${grantId}`, second);
    expect(grant.body).toMatchObject({ status: 'active', endedAt: null });
    const mineAfter = await api.get<{ items: RequestView[] }>('/v1/requests?scope=mine&limit=200', second);
    expect(mineAfter.body).toEqual(mineBefore.body);
    const credential = await api.get(`/v1/grants/${grantId}/credential`, second);
    expect(credential.status).toBe(200);
  });

  it("expires a token after the policy's tokenTtl: 401 token_expired", async () => {
    const { api, clock } = running;
    const signedIn = await login(api, 'dave', 'demo');
    expect(signedIn.status).toBe(200);
    const { token, expiresAt } = signedIn.body;
    expect(Date.parse(expiresAt)).toBe(clock.now() + DEMO_TOKEN_TTL_MS);

    await running.advance(DEMO_TOKEN_TTL_MS - 1000);
    expect((await api.get('/v1/me', token)).status).toBe(200);

    await running.advance(1000);
    expect(clock.now()).toBe(Date.parse(expiresAt));
    expectError(await api.get('/v1/me', token), 401, 'token_expired');
    expectError(await api.get('/v1/grants', token), 401, 'token_expired');
    expectError(await api.post('/v1/auth/logout', token), 401, 'token_expired');

    const again = await login(api, 'dave', 'demo');
    expect(again.status).toBe(200);
    expect((await api.get('/v1/me', again.body.token)).status).toBe(200);
  });

  it('locks an account after 5 failures in 15 minutes, even for the right password, until the window passes', async () => {
    const { api } = running;
    for (let attempt = 1; attempt <= 5; attempt++) {
      expectError(await login(api, 'dave', `wrong-${attempt}`), 401, 'invalid_credentials');
    }
    const locked = await login(api, 'dave', 'demo');
    const body = expectError(locked, 429, 'too_many_attempts');
    expect(locked.headers.get('retry-after')).toBe('900');
    expect(body.error.details).toEqual({ retryAfterSeconds: 900 });
    expectError(await login(api, 'dave', 'wrong-6'), 429, 'too_many_attempts');

    // Another account from the same address is not locked.
    expect((await login(api, 'alice', 'demo')).status).toBe(200);

    await running.advance(ACCOUNT_WINDOW_MS - 1000);
    const stillLocked = await login(api, 'dave', 'demo');
    expectError(stillLocked, 429, 'too_many_attempts');
    expect(stillLocked.headers.get('retry-after')).toBe('1');

    await running.advance(1000);
    const unlocked = await login(api, 'dave', 'demo');
    expect(unlocked.status).toBe(200);
    expect(unlocked.body.user.id).toBe('dave');
  });

  it("resets an account's failure count on a successful sign-in", async () => {
    const { api } = running;
    for (let attempt = 1; attempt <= 4; attempt++) {
      expectError(await login(api, 'dave', `wrong-${attempt}`), 401, 'invalid_credentials');
    }
    expect((await login(api, 'dave', 'demo')).status).toBe(200);
    for (let attempt = 1; attempt <= 4; attempt++) {
      expectError(await login(api, 'dave', `wrong-again-${attempt}`), 401, 'invalid_credentials');
    }
    // Eight failures in the window, but only four since the last success.
    expect((await login(api, 'dave', 'demo')).status).toBe(200);
    for (let attempt = 1; attempt <= 5; attempt++) {
      expectError(await login(api, 'dave', `wrong-thrice-${attempt}`), 401, 'invalid_credentials');
    }
    expectError(await login(api, 'dave', 'demo'), 429, 'too_many_attempts');
  });

  it('limits an address to 30 failures a minute across usernames', async () => {
    const { api } = running;
    // All 30 are checked against a count below the limit, so their order does not matter.
    const attempts = await Promise.all(
      Array.from({ length: 30 }, (_, index) => login(api, `nobody-${index}`, 'guess')),
    );
    for (const attempt of attempts) expectError(attempt, 401, 'invalid_credentials');

    const refused = await login(api, 'alice', 'demo');
    expectError(refused, 429, 'too_many_attempts');
    expect(refused.headers.get('retry-after')).toBe('60');
    expectError(await login(api, 'nobody-else', 'guess'), 429, 'too_many_attempts');

    await running.advance(60_000);
    const allowed = await login(api, 'alice', 'demo');
    expect(allowed.status).toBe(200);
  }, 60_000);
});

describe.each(DATABASES)('sign-in with a TOTP second factor on %s', (kind) => {
  let running: RunningService;

  beforeAll(async () => {
    running = await startService({ kind, policy: await totpPolicy() });
  });
  afterAll(async () => {
    await running.stop();
  });
  beforeEach(async () => {
    await running.advance(ACCOUNT_WINDOW_MS);
  });

  it('asks for the code with 401 otp_required, and only after the password was right', async () => {
    const { api, clock } = running;
    expectError(await login(api, 'erin', PASSWORD), 401, 'otp_required');
    // A wrong password is invalid_credentials with or without a code: otp_required never confirms a guess.
    expectError(await login(api, 'erin', WRONG_PASSWORD), 401, 'invalid_credentials');
    expectError(await login(api, 'erin', WRONG_PASSWORD, totpCode(clock.now())), 401, 'invalid_credentials');
    // An account without TOTP signs in with its password alone.
    expect((await login(api, 'frank', PASSWORD)).status).toBe(200);
  });

  it('accepts a current code once; a replayed or wrong code is 401 invalid_otp; the next code works', async () => {
    const { api, clock } = running;
    const code = totpCode(clock.now());
    const accepted = await login(api, 'erin', PASSWORD, code);
    expect(accepted.status).toBe(200);
    expect(accepted.body.user).toEqual({
      id: 'erin',
      username: 'erin',
      displayName: 'Erin Sato',
      groups: ['engineers'],
      isAdmin: false,
    });
    // The code is a second factor: the session counts as multi-factor.
    const me = await api.get<{ authMethod: string; mfa: boolean }>('/v1/me', accepted.body.token);
    expect(me.body).toMatchObject({ authMethod: 'password', mfa: true });

    const replayed = await login(api, 'erin', PASSWORD, code);
    expectError(replayed, 401, 'invalid_otp');
    expect('token' in replayed.body).toBe(false);
    expectError(await login(api, 'erin', PASSWORD, wrongTotpCode(clock.now())), 401, 'invalid_otp');

    await running.advance(30_000);
    // Still inside the accepted window, the old code stays spent.
    expectError(await login(api, 'erin', PASSWORD, code), 401, 'invalid_otp');
    const next = await login(api, 'erin', PASSWORD, totpCode(clock.now()));
    expect(next.status).toBe(200);
  });
});

describe.each(DATABASES)('log hygiene on %s', (kind) => {
  it('never logs the password, the bearer token, the credential JWT or the TOTP code', async () => {
    const chunks: string[] = [];
    const clock = new ManualClock();
    const database = await createTestDatabase(kind);
    let closed = false;
    const service = await createService({
      policy: await totpPolicy(),
      databaseUrl: database.url,
      dataDir: null,
      clock,
      logger: {
        stream: {
          write(message: string) {
            chunks.push(message);
          },
        },
        level: 'trace',
      },
      heartbeatMs: 15_000,
    });
    try {
      const api = new Api(await service.listen(0, '127.0.0.1'));
      expectError(await login(api, 'erin', WRONG_PASSWORD), 401, 'invalid_credentials');
      expectError(await login(api, 'erin', PASSWORD), 401, 'otp_required');
      const code = totpCode(clock.now());
      const signedIn = await login(api, 'erin', PASSWORD, code);
      expect(signedIn.status).toBe(200);
      const { token } = signedIn.body;
      expectError(await login(api, 'erin', PASSWORD, code), 401, 'invalid_otp');

      const created = await api.post<RequestView>('/v1/requests', token, {
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 60,
        reason: 'x',
      });
      expect(created.status).toBe(201);
      const credential = await api.get<{ secret: { token: string } }>(
        `/v1/grants/${created.body.grantId ?? ''}/credential`,
        token,
      );
      expect(credential.status).toBe(200);
      const jwt = credential.body.secret.token;
      expect(jwt.split('.')).toHaveLength(3);

      expect((await api.post('/v1/auth/logout', token)).status).toBe(204);
      expectError(await api.get('/v1/me', token), 401, 'token_revoked');

      // Closing flushes every request's completion line.
      await service.close();
      closed = true;
      const log = chunks.join('');
      // The capture works: the requests above were logged.
      expect(log).toContain('/v1/auth/login');
      expect(log).toContain('/v1/auth/logout');
      expect(log).toContain('/credential');

      const secrets: Record<string, string> = {
        password: PASSWORD,
        'wrong password': WRONG_PASSWORD,
        'bearer token': token,
        'bearer token without its prefix': token.replace(/^tbx_/, ''),
        'credential JWT': jwt,
        'credential JWT signature': jwt.split('.')[2] ?? jwt,
        'TOTP secret': TOTP_SECRET,
      };
      for (const [what, secret] of Object.entries(secrets)) {
        expect(log.includes(secret), `the log contains the ${what}`).toBe(false);
      }
      expect(new RegExp(`(?<!\\d)${code}(?!\\d)`).test(log), 'the log contains the TOTP code').toBe(false);
    } finally {
      if (!closed) await service.close();
      await database.drop();
    }
  });
});
