import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { OidcProvider, Policy } from '../../server/policy/types.js';
import { Browser } from '../support/browser.js';
import { DATABASES } from '../support/databases.js';
import { acmeProvider, type RunningIdp, startIdp } from '../support/oidc-idp.js';
import {
  LOOPBACK_REDIRECT,
  pkcePair,
  signInThroughBrowser,
  startPath,
  type BrowserSignIn,
} from '../support/native-sign-in-steps.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

interface ErrorBody {
  error: { code: string; message: string };
}
interface UserBody {
  id: string;
  displayName: string;
  groups: string[];
  isAdmin: boolean;
}
interface SessionBody {
  token: string;
  expiresAt: string;
  user: UserBody;
}
interface MeBody extends UserBody {
  authMethod: string;
  authTime: string;
  mfa: boolean;
}

const CLIENT_SECRET = 'stand-in-client-secret-7c1f9e2a';

/** erin and tara exist only at the provider; bob is also in the policy file (the demo's team lead). */
const IDP_PEOPLE = {
  erin: {
    password: 'erin-idp-password',
    otp: '246810',
    claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['eng-all', 'cafeteria'] },
  },
  tara: {
    password: 'tara-idp-password',
    claims: { preferred_username: 'Tara', name: 'Tara Lind', groups: ['team-leads'] },
  },
  bob: {
    password: 'bob-idp-password',
    claims: { preferred_username: 'bob', name: 'Bob at the IdP', groups: [] },
  },
};

function acme(issuer: string): OidcProvider {
  return acmeProvider(issuer, CLIENT_SECRET, {
    scopes: ['openid', 'profile', 'email', 'groups'],
    groupMap: new Map([['eng-all', 'engineers']]),
    mfaAmr: ['mfa', 'otp', 'hwk', 'swk'],
  });
}

async function withIdp(issuer: string, password = true): Promise<Policy> {
  return {
    ...(await demoOrganisation()),
    identity: { password, oidc: [acme(issuer)], provisioning: 'jit', scimTokenHash: null },
  };
}

describe.each(DATABASES)('single sign-on through a company identity provider on %s', (kind) => {
  let idp: RunningIdp;
  let running: RunningService;

  beforeAll(async () => {
    idp = await startIdp(IDP_PEOPLE);
    running = await startService({ kind, policy: await withIdp(idp.issuer) });
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

  const signIn = (username: keyof typeof IDP_PEOPLE, extra: { otp?: string; browser?: Browser } = {}) =>
    signInThroughBrowser({
      serviceUrl: running.url,
      provider: 'acme',
      username,
      password: IDP_PEOPLE[username].password,
      ...extra,
    });
  const redeem = (signedIn: BrowserSignIn, verifier = signedIn.pkce.verifier) =>
    running.api.post<SessionBody & ErrorBody>('/v1/auth/oidc/token', undefined, {
      code: signedIn.landing.searchParams.get('code') ?? '',
      codeVerifier: verifier,
    });
  const count = async (table: string): Promise<number> => {
    const [row] = await running.service.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return row?.n ?? -1;
  };

  it('lists passwords and the provider as the ways to sign in, without a token', async () => {
    const methods = await running.api.get('/v1/auth/methods');
    expect(methods.status).toBe(200);
    expect(methods.body).toEqual({ password: true, oidc: [{ id: 'acme', name: 'Acme SSO' }] });
  });

  it('signs in a person who exists only at the provider, with their mapped groups, who then gets access', async () => {
    const signedIn = await signIn('erin');
    expect(signedIn.landing.origin + signedIn.landing.pathname).toBe(LOOPBACK_REDIRECT);
    expect(signedIn.landing.searchParams.get('state')).toBe(signedIn.state);
    expect(signedIn.landing.searchParams.get('error')).toBeNull();

    const session = await redeem(signedIn);
    expect(session.status).toBe(200);
    // eng-all maps to engineers; cafeteria is no policy group and is dropped.
    expect(session.body.user).toEqual({
      id: 'erin',
      username: 'erin',
      displayName: 'Erin Sato',
      groups: ['engineers'],
      isAdmin: false,
    });
    const me = await running.api.get<MeBody>('/v1/me', session.body.token);
    expect(me.body).toMatchObject({ id: 'erin', authMethod: 'oidc:acme', mfa: false });
    expect(Date.parse(me.body.authTime)).toBeGreaterThan(0);

    // bob (the policy's team lead, with his password) approves her request for the orders database.
    const request = await running.api.post<RequestView>('/v1/requests', session.body.token, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 3600,
      reason: 'Look into order 4711',
    });
    expect(request.status).toBe(201);
    const bob = await running.api.login('bob');
    const approved = await running.api.post<RequestView>(`/v1/requests/${request.body.id}/approve`, bob, {});
    expect(approved.body.status).toBe('approved');
    const grants = await running.api.get<{ items: GrantView[] }>(
      '/v1/grants?status=active',
      session.body.token,
    );
    expect(grants.body.items.map((grant) => grant.resourceId)).toEqual(['prod-db']);

    await running.service.auditChainer.flush();
    const audit = await running.service.db.query<{ action: string; data: { groups?: string[] } }>(
      `SELECT action, data FROM audit_log WHERE subject_id = 'erin' AND action = 'user.provisioned'`,
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.data.groups).toEqual(['engineers']);
  });

  it('makes a person the provider brought in an approver of the groups they are in', async () => {
    // Tara's username arrives as "Tara" and is kept lowercase; team-leads maps as is.
    const tara = await redeem(await signIn('tara'));
    expect(tara.body.user).toMatchObject({ id: 'tara', groups: ['team-leads'] });
    const erin = await redeem(await signIn('erin'));
    const request = await running.api.post<RequestView>('/v1/requests', erin.body.token, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'Check a refund',
    });
    const approvable = await running.api.get<{ items: RequestView[] }>(
      '/v1/requests?scope=approvable',
      tara.body.token,
    );
    expect(approvable.body.items.map((item) => item.id)).toContain(request.body.id);
  });

  it('takes group changes at the next sign-in, and MFA from the provider’s amr', async () => {
    idp.setClaims('erin', { ...IDP_PEOPLE.erin.claims, groups: ['team-leads'] });
    try {
      const session = await redeem(await signIn('erin', { otp: IDP_PEOPLE.erin.otp }));
      expect(session.body.user.groups).toEqual(['team-leads']);
      const me = await running.api.get<MeBody>('/v1/me', session.body.token);
      expect(me.body).toMatchObject({ groups: ['team-leads'], mfa: true, authMethod: 'oidc:acme' });
    } finally {
      idp.setClaims('erin', IDP_PEOPLE.erin.claims);
    }
  });

  it('signs a person of the policy file in as themselves, with the file’s groups', async () => {
    const session = await redeem(await signIn('bob'));
    expect(session.status).toBe(200);
    expect(session.body.user).toMatchObject({ id: 'bob', displayName: 'Bob Martin', groups: ['team-leads'] });
  });

  it('refuses a redirect_uri that is not a loopback address with a port, creating nothing', async () => {
    const before = await count('oidc_flows');
    const { challenge } = pkcePair();
    for (const redirectUri of [
      'https://evil.example/callback',
      'http://localhost:53682/callback',
      'http://127.0.0.1/callback',
      'http://127.0.0.1.evil.example:53682/callback',
      'http://user@127.0.0.1:53682/callback',
      undefined,
    ]) {
      const response = await running.api.get<ErrorBody>(
        startPath('acme', {
          redirect_uri: redirectUri,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          state: 'abc',
        }),
      );
      expect(response.status, String(redirectUri)).toBe(400);
      expect(response.body.error.code).toBe('invalid_redirect_uri');
    }
    expect(await count('oidc_flows')).toBe(before);
  });

  it('refuses a missing or plain code challenge, and an unknown provider', async () => {
    const before = await count('oidc_flows');
    const { challenge } = pkcePair();
    for (const pkce of [
      { code_challenge: undefined, code_challenge_method: 'S256' },
      { code_challenge: challenge, code_challenge_method: 'plain' },
      { code_challenge: challenge, code_challenge_method: undefined },
      { code_challenge: 'too-short', code_challenge_method: 'S256' },
    ]) {
      const response = await running.api.get<ErrorBody>(
        startPath('acme', { redirect_uri: LOOPBACK_REDIRECT, state: 'abc', ...pkce }),
      );
      expect(response.status).toBe(400);
      expect(response.body.error.code).toBe('invalid_code_challenge');
    }
    const unknown = await running.api.get<ErrorBody>(
      startPath('globex', {
        redirect_uri: LOOPBACK_REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        state: 'abc',
      }),
    );
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('provider_not_found');
    expect(await count('oidc_flows')).toBe(before);
  });

  it('redeems a code once, with its own verifier, within 60 seconds', async () => {
    const sessionsBefore = await count('sessions');
    const wrongVerifier = await signIn('erin');
    const refused = await redeem(wrongVerifier, pkcePair().verifier);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('invalid_grant');
    // The wrong try spent the code: the right verifier is too late now.
    expect((await redeem(wrongVerifier)).body.error.code).toBe('invalid_grant');

    const twice = await signIn('erin');
    expect((await redeem(twice)).status).toBe(200);
    const again = await redeem(twice);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_grant');

    const late = await signIn('erin');
    await running.advance(61_000);
    expect((await redeem(late)).body.error.code).toBe('invalid_grant');

    const unknown = await running.api.post<ErrorBody>('/v1/auth/oidc/token', undefined, {
      code: 'made-up',
      codeVerifier: pkcePair().verifier,
    });
    expect(unknown.body.error.code).toBe('invalid_grant');
    expect(await count('sessions')).toBe(sessionsBefore + 1);
  });

  it('refuses a callback whose state it did not send, or sent and already used', async () => {
    const foreign = await running.api.get<ErrorBody>('/v1/auth/oidc/acme/callback?code=abc&state=not-ours');
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.code).toBe('invalid_state');

    // The provider's redirect to the service, replayed after it was used once.
    const browser = new Browser();
    const atCallback = (location: string): boolean => location.includes('/v1/auth/oidc/acme/callback');
    const loginPage = await browser.open(
      `${running.url}${startPath('acme', {
        redirect_uri: LOOPBACK_REDIRECT,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        state: 'replay',
      })}`,
      atCallback,
    );
    const toService = await browser.submit(
      loginPage,
      { username: 'erin', password: IDP_PEOPLE.erin.password, otp: '' },
      atCallback,
    );
    if (toService.kind !== 'redirect') throw new Error('the provider did not send the browser back');
    const used = await fetch(toService.location, { redirect: 'manual' });
    expect(used.status).toBe(302);
    expect(used.headers.get('location')).toContain('code=');
    const replayed = await fetch(toService.location, { redirect: 'manual' });
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as ErrorBody).error.code).toBe('invalid_state');
  });

  it('refuses a body with unknown fields or no verifier', async () => {
    const extra = await running.api.post<ErrorBody>('/v1/auth/oidc/token', undefined, {
      code: 'x',
      codeVerifier: pkcePair().verifier,
      redirectUri: LOOPBACK_REDIRECT,
    });
    expect(extra.status).toBe(400);
    const missing = await running.api.post<ErrorBody>('/v1/auth/oidc/token', undefined, { code: 'x' });
    expect(missing.status).toBe(400);
  });
});

describe('with password sign-in off', () => {
  let running: RunningService;
  beforeAll(async () => {
    running = await startService({ kind: 'pglite', policy: await withIdp('http://127.0.0.1:9', false) });
  });
  afterAll(async () => {
    await running.stop();
  });

  it('offers only the provider and refuses passwords, even right ones', async () => {
    expect((await running.api.get('/v1/auth/methods')).body).toEqual({
      password: false,
      oidc: [{ id: 'acme', name: 'Acme SSO' }],
    });
    const login = await running.api.post<ErrorBody>('/v1/auth/login', undefined, {
      username: 'bob',
      password: 'demo',
    });
    expect(login.status).toBe(403);
    expect(login.body.error.code).toBe('password_sign_in_disabled');
  });

  it('says the provider cannot be reached when it does not answer, storing nothing', async () => {
    const response = await running.api.get<ErrorBody>(
      startPath('acme', {
        redirect_uri: LOOPBACK_REDIRECT,
        code_challenge: pkcePair().challenge,
        code_challenge_method: 'S256',
        state: 'abc',
      }),
    );
    expect(response.status).toBe(502);
    expect(response.body.error.code).toBe('provider_unavailable');
  });
});
