import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import type { ApiResponse } from '../support/http.js';
import { acmeProvider, type RunningIdp, startIdp } from '../support/oidc-idp.js';
import { signInThroughBrowser } from '../support/native-sign-in-steps.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

const SCIM_TOKEN = 'scim-token-3f9e1c7a5b2d4e6f8a0b1c2d3e4f5a6b';
const CLIENT_SECRET = 'scim-suite-client-secret';

const IDP_PEOPLE = {
  erin: {
    password: 'erin-pw',
    claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['engineers'] },
  },
  tara: {
    password: 'tara-pw',
    claims: { preferred_username: 'tara', name: 'Tara Lind', groups: ['team-leads'] },
  },
};

interface ScimUser {
  schemas: string[];
  id: string;
  userName: string;
  externalId?: string;
  displayName: string;
  active: boolean;
  meta: { resourceType: string; location: string };
}
interface ScimList {
  totalResults: number;
  Resources: ScimUser[];
}
interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: string;
  detail: string;
}

// RFC 7644 §3.3's example of creating a user, as the IdP sends it.
const BJENSEN = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: 'bjensen',
  externalId: 'bjensen',
  name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
};

async function withScim(issuer: string): Promise<Policy> {
  return {
    ...(await demoOrganisation()),
    identity: {
      password: true,
      provisioning: 'jit',
      scimTokenHash: createHash('sha256').update(SCIM_TOKEN).digest('hex'),
      oidc: [acmeProvider(issuer, CLIENT_SECRET)],
    },
  };
}

describe.each(DATABASES)('SCIM provisioning on %s', (kind) => {
  let idp: RunningIdp;
  let running: RunningService;

  beforeAll(async () => {
    idp = await startIdp(IDP_PEOPLE);
    running = await startService({ kind, policy: await withScim(idp.issuer) });
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

  const scim = <T>(
    method: string,
    path: string,
    body?: unknown,
    token = SCIM_TOKEN,
  ): Promise<ApiResponse<T>> =>
    running.api.call<T>(method, `/scim/v2${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }),
      },
      ...(body === undefined ? {} : { rawBody: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const parsed = <T>(response: ApiResponse<T>): T =>
    (typeof response.body === 'string' ? JSON.parse(response.body) : response.body) as T;
  const signIn = async (username: keyof typeof IDP_PEOPLE): Promise<{ token?: string; landing: URL }> => {
    const { landing, pkce } = await signInThroughBrowser({
      serviceUrl: running.url,
      provider: 'acme',
      username,
      password: IDP_PEOPLE[username].password,
    });
    const code = landing.searchParams.get('code');
    if (code === null) return { landing };
    const session = await running.api.post<{ token: string }>('/v1/auth/oidc/token', undefined, {
      code,
      codeVerifier: pkce.verifier,
    });
    return { token: session.body.token, landing };
  };
  const scimIdOf = async (userName: string): Promise<string> => {
    const list = parsed(
      await scim<ScimList>('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`),
    );
    const id = list.Resources[0]?.id;
    if (id === undefined) throw new Error(`${userName} is not in SCIM`);
    return id;
  };

  it('creates a user from RFC 7644’s example body, reads and finds it, and refuses it twice', async () => {
    const created = await scim<ScimUser>('POST', '/Users', BJENSEN);
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toContain('application/scim+json');
    const user = parsed(created);
    expect(user).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'bjensen',
      externalId: 'bjensen',
      displayName: 'Ms. Barbara J Jensen III',
      active: true,
      meta: { resourceType: 'User', location: `${running.url}/scim/v2/Users/${user.id}` },
    });
    expect(parsed(await scim<ScimUser>('GET', `/Users/${user.id}`))).toEqual(user);
    const found = parsed(
      await scim<ScimList>('GET', `/Users?filter=${encodeURIComponent('userName eq "bjensen"')}`),
    );
    expect(found.totalResults).toBe(1);
    expect(found.Resources[0]?.id).toBe(user.id);

    const again = await scim<ScimErrorBody>('POST', '/Users', BJENSEN);
    expect(again.status).toBe(409);
    expect(parsed(again)).toMatchObject({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
      status: '409',
      scimType: 'uniqueness',
    });
    const fileUser = await scim<ScimErrorBody>('POST', '/Users', { ...BJENSEN, userName: 'bob' });
    expect(fileUser.status).toBe(409);
  });

  it('answers only its own bearer token: none, a wrong one or a person’s session token is 401', async () => {
    const bob = await running.api.login('bob');
    for (const token of ['', 'wrong-token-of-the-right-length-000000', bob]) {
      const response = await scim<ScimErrorBody>('GET', '/Users', undefined, token);
      expect(response.status).toBe(401);
      expect(parsed(response).schemas).toEqual(['urn:ietf:params:scim:api:messages:2.0:Error']);
    }
  });

  it('refuses malformed bodies and filters with SCIM’s errors, changing nothing', async () => {
    const id = parsed(
      await scim<ScimUser>('POST', '/Users', { ...BJENSEN, userName: 'mjones', externalId: 'mj' }),
    ).id;
    const before = parsed(await scim<ScimUser>('GET', `/Users/${id}`));
    const refusals: [string, string, unknown, number, string | undefined][] = [
      ['POST', '/Users', '{"userName": ', 400, 'invalidSyntax'],
      ['POST', '/Users', { schemas: BJENSEN.schemas }, 400, 'invalidSyntax'],
      ['POST', '/Users', { userName: 'nobody' }, 400, 'invalidSyntax'],
      ['POST', '/Users', { ...BJENSEN, userName: 'has space' }, 400, 'invalidValue'],
      ['GET', `/Users?filter=${encodeURIComponent('userName co "m"')}`, undefined, 400, 'invalidFilter'],
      ['GET', `/Users?filter=${encodeURIComponent('userName eq mjones')}`, undefined, 400, 'invalidFilter'],
      ['GET', '/Users?count=-1', undefined, 400, 'invalidValue'],
      ['PUT', `/Users/${id}`, { ...BJENSEN, userName: 'renamed' }, 400, 'mutability'],
      [
        'PATCH',
        `/Users/${id}`,
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'title', value: 'x' }],
        },
        400,
        'invalidPath',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'active', value: 'maybe' }],
        },
        400,
        'invalidValue',
      ],
      [
        'PATCH',
        `/Users/${id}`,
        { Operations: [{ op: 'replace', path: 'active', value: false }] },
        400,
        'invalidSyntax',
      ],
      ['GET', '/Users/no-such-id', undefined, 404, undefined],
      ['DELETE', '/Users/no-such-id', undefined, 404, undefined],
    ];
    for (const [method, path, body, status, scimType] of refusals) {
      const response = await scim<ScimErrorBody>(method, path, body);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(parsed(response).scimType, `${method} ${path}`).toBe(scimType);
    }
    expect(parsed(await scim<ScimUser>('GET', `/Users/${id}`))).toEqual(before);
  });

  it('offboards a leaver at once: sessions end, grants are revoked, requests cancelled, approvals move on', async () => {
    const erin = await signIn('erin');
    const tara = await signIn('tara');
    const alice = await running.api.login('alice');
    if (erin.token === undefined || tara.token === undefined) throw new Error('the sign-ins failed');
    const sandbox = await running.api.post<RequestView>('/v1/requests', erin.token, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: 'deploy a test build',
    });
    expect(sandbox.body.status).toBe('approved');
    const pending = await running.api.post<RequestView>('/v1/requests', erin.token, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'check order 17',
    });
    expect(pending.body.status).toBe('pending');
    const alicesRequest = await running.api.post<RequestView & { waitingFor: string[] }>(
      '/v1/requests',
      alice,
      {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 600,
        reason: 'check order 18',
      },
    );
    expect(alicesRequest.body.waitingFor).toEqual(['bob', 'tara']);

    // Entra's way of saying it: op "Replace", the value a string.
    const deactivated = await scim<ScimUser>('PATCH', `/Users/${await scimIdOf('erin')}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'Replace', path: 'active', value: 'False' }],
    });
    expect(deactivated.status).toBe(200);
    expect(parsed(deactivated).active).toBe(false);

    const me = await running.api.get<{ error: { code: string } }>('/v1/me', erin.token);
    expect(me.status).toBe(401);
    expect(me.body.error.code).toBe('token_revoked');
    const admin = await running.api.login('admin');
    const grant = await running.api.get<GrantView>(`/v1/grants/${sandbox.body.grantId ?? ''}`, admin);
    expect(grant.body).toMatchObject({ status: 'revoked', endReason: 'revoked' });
    const request = await running.api.get<RequestView>(`/v1/requests/${pending.body.id}`, admin);
    expect(request.body.status).toBe('cancelled');
    const again = await signIn('erin');
    expect(again.landing.searchParams.get('error')).toBe('access_denied');

    // A team lead removed: the request waiting on her asks only bob now.
    const deleted = await scim('DELETE', `/Users/${await scimIdOf('tara')}`);
    expect(deleted.status).toBe(204);
    const waiting = await running.api.get<RequestView & { waitingFor: string[] }>(
      `/v1/requests/${alicesRequest.body.id}`,
      alice,
    );
    expect(waiting.body.waitingFor).toEqual(['bob']);
    expect((await running.api.get('/v1/me', tara.token)).status).toBe(401);

    await running.service.auditChainer.flush();
    const audit = await running.service.db.query<{ action: string; subject_id: string }>(
      `SELECT action, subject_id FROM audit_log WHERE action LIKE 'user.%' AND subject_id IN ('erin', 'tara') ORDER BY seq`,
    );
    expect(audit.map((entry) => `${entry.action} ${entry.subject_id}`)).toEqual([
      'user.provisioned erin',
      'user.provisioned tara',
      'user.offboarded erin',
      'user.deactivated erin',
      'user.offboarded tara',
      'user.deleted tara',
    ]);
  });

  it('serves its discovery documents', async () => {
    const config = parsed(await scim<{ patch: { supported: boolean } }>('GET', '/ServiceProviderConfig'));
    expect(config.patch.supported).toBe(true);
    const types = parsed(await scim<ScimList>('GET', '/ResourceTypes'));
    expect(types.totalResults).toBe(1);
    const schemas = parsed(await scim<ScimList>('GET', '/Schemas'));
    expect(schemas.totalResults).toBe(1);
  });
});
