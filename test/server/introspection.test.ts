import { createHash } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import type { Policy } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import type { Api, ApiResponse } from '../support/http.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

// Resource servers' own bearer tokens, as the policy would read them from tokenEnv or tokenFile.
const SANDBOX_API = 'rs-sandbox-4f9a2c71e0b84d5f9a6c3b2e1d0f7a8b';
const ORDERS_API = 'rs-orders-9b1e7d3a5c2f4e6a8d0b1c3e5f7a9b2d';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The demo organisation with two resource servers: one serves the sandbox, the other the orders database. */
async function withResourceServers(): Promise<Policy> {
  const demo = await demoOrganisation();
  return {
    ...demo,
    resourceServers: new Map([
      [sha256(SANDBOX_API), { id: 'sandbox-api', resources: new Set(['sandbox']) }],
      [sha256(ORDERS_API), { id: 'orders-api', resources: new Set(['prod-db']) }],
    ]),
  };
}

interface Introspected {
  active: boolean;
  [claim: string]: unknown;
}
interface ErrorBody {
  error: { code: string; message: string };
}

/** RFC 7662's form body; `json` sends `{token}` instead. */
function introspect(
  api: Api,
  bearer: string | undefined,
  token: string,
  json = false,
): Promise<ApiResponse<Introspected & ErrorBody>> {
  return api.call('POST', '/v1/credentials/introspect', {
    ...(bearer === undefined ? {} : { token: bearer }),
    headers: { 'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded' },
    rawBody: json ? JSON.stringify({ token }) : new URLSearchParams({ token }).toString(),
  });
}

describe.each(DATABASES)('introspection for resource servers, on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let admin: string;

  beforeEach(async () => {
    running = await startService({ kind, policy: await withResourceServers() });
    alice = await running.api.login('alice');
    admin = await running.api.login('admin');
  });
  afterEach(async () => {
    await running.stop();
  });

  async function sandboxGrant(durationSeconds = 600): Promise<GrantView> {
    const created = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds,
    });
    expect(created.status).toBe(201);
    return (await running.api.get<GrantView>(`/v1/grants/${created.body.grantId ?? ''}`, alice)).body;
  }

  async function credentialOf(grant: GrantView): Promise<{ token: string; expiresAt: string }> {
    const answer = await running.api.get<{ expiresAt: string; secret: { token: string } }>(
      `/v1/grants/${grant.id}/credential`,
      alice,
    );
    expect(answer.status).toBe(200);
    return { token: answer.body.secret.token, expiresAt: answer.body.expiresAt };
  }

  const activeFor = async (bearer: string, token: string): Promise<boolean> => {
    const answer = await introspect(running.api, bearer, token);
    expect(answer.status).toBe(200);
    return answer.body.active;
  };

  it("answers an active grant's token with its claims, to the server of its resource, form or JSON", async () => {
    const grant = await sandboxGrant();
    const { token } = await credentialOf(grant);
    const claims = decodeJwt(token);
    for (const json of [false, true]) {
      const answer = await introspect(running.api, SANDBOX_API, token, json);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('cache-control')).toBe('no-store');
      expect(answer.body).toEqual({
        active: true,
        iss: running.url,
        sub: 'alice',
        aud: 'sandbox',
        scope: 'operator',
        jti: grant.id,
        iat: claims.iat,
        exp: claims.exp,
        grant_status: 'active',
      });
    }
    // A resource the asking server does not serve: not active, and nothing said about it.
    expect(await introspect(running.api, ORDERS_API, token)).toMatchObject({
      status: 200,
      body: { active: false },
    });
    expect(Object.keys((await introspect(running.api, ORDERS_API, token)).body)).toEqual(['active']);
  });

  it('answers active: false at once after relinquish, revoke and expiry', async () => {
    const relinquished = await sandboxGrant();
    const revoked = await sandboxGrant(900);
    const expiring = await sandboxGrant(60);
    const tokens = await Promise.all([relinquished, revoked, expiring].map(credentialOf));
    for (const { token } of tokens) expect(await activeFor(SANDBOX_API, token)).toBe(true);

    expect((await running.api.post(`/v1/grants/${relinquished.id}/revoke`, alice, {})).status).toBe(200);
    expect(await activeFor(SANDBOX_API, tokens[0]?.token ?? '')).toBe(false);
    expect((await running.api.post(`/v1/grants/${revoked.id}/revoke`, admin, {})).status).toBe(200);
    expect(await activeFor(SANDBOX_API, tokens[1]?.token ?? '')).toBe(false);
    // The grant's expiry on the service's clock, before or after the sweep has recorded it.
    running.clock.advance(Date.parse(expiring.expiresAt) - running.clock.now());
    expect(await activeFor(SANDBOX_API, tokens[2]?.token ?? '')).toBe(false);
  });

  it('issues tokens that live credentialTtl (5 min by default), never past the grant, and fresh ones', async () => {
    const long = await sandboxGrant(600);
    const first = await credentialOf(long);
    const claims = decodeJwt(first.token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(Date.parse(first.expiresAt)).toBe((claims.exp ?? 0) * 1000);
    // Past its own exp the token is not active, though its grant still is; a fresh fetch is.
    running.clock.advance(300_000);
    expect(await activeFor(SANDBOX_API, first.token)).toBe(false);
    const renewed = await credentialOf(long);
    expect(await activeFor(SANDBOX_API, renewed.token)).toBe(true);
    expect(decodeJwt(renewed.token).jti).toBe(long.id);

    const short = await sandboxGrant(60);
    const bounded = await credentialOf(short);
    expect(bounded.expiresAt).toBe(short.expiresAt);
    expect(decodeJwt(bounded.token).exp).toBe(Math.floor(Date.parse(short.expiresAt) / 1000));
  });

  it('answers active: false for malformed, foreign and forged tokens, never an error page', async () => {
    const { token } = await credentialOf(await sandboxGrant());
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    // Our claims and our kid, signed by someone else's key.
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: header.kid ?? '', typ: 'JWT' })
      .sign(privateKey);
    const [head, body] = token.split('.');
    const unsigned = `${head ?? ''}.${body ?? ''}.`;
    const otherKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: 'not-one-of-ours', typ: 'JWT' })
      .sign(privateKey);
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', kid: header.kid ?? '', typ: 'JWT' })
      .sign(new TextEncoder().encode('a-secret-anyone-could-choose-000'));
    for (const candidate of [
      'not a token',
      'a.b.c',
      unsigned,
      forged,
      otherKid,
      hs256,
      `${token}x`,
      'x'.repeat(8192),
      "' OR 1=1 --",
    ]) {
      const answer = await introspect(running.api, SANDBOX_API, candidate);
      expect([candidate.slice(0, 20), answer.status, answer.body]).toEqual([
        candidate.slice(0, 20),
        200,
        { active: false },
      ]);
    }
  });

  it("refuses a caller without a resource server's token (401), a user's token too, before reading the body", async () => {
    const { token } = await credentialOf(await sandboxGrant());
    const cases: [string | undefined, string][] = [
      [undefined, 'missing_token'],
      [alice, 'not_a_resource_server'],
      [admin, 'not_a_resource_server'],
      [`${SANDBOX_API}x`, 'not_a_resource_server'],
    ];
    for (const [bearer, code] of cases) {
      const answer = await introspect(running.api, bearer, token);
      expect([answer.status, answer.body.error.code]).toEqual([401, code]);
    }
    const unread = await running.api.call<ErrorBody>('POST', '/v1/credentials/introspect', {
      token: alice,
      headers: { 'content-type': 'application/json' },
      rawBody: '{not json',
    });
    expect([unread.status, unread.body.error.code]).toEqual([401, 'not_a_resource_server']);
  });

  it('refuses a request without a token, with unknown fields or in another media type (400, 415)', async () => {
    const call = (contentType: string, rawBody: string) =>
      running.api.call<ErrorBody>('POST', '/v1/credentials/introspect', {
        token: SANDBOX_API,
        headers: { 'content-type': contentType },
        rawBody,
      });
    const cases: [string, string, number, string][] = [
      ['application/x-www-form-urlencoded', '', 400, 'invalid_request'],
      ['application/x-www-form-urlencoded', 'token=', 400, 'invalid_request'],
      ['application/x-www-form-urlencoded', 'token=a&token=b', 400, 'invalid_request'],
      ['application/x-www-form-urlencoded', 'token=a&client_secret=b', 400, 'unknown_field'],
      ['application/json', '{}', 400, 'invalid_request'],
      ['application/json', '{"token": 42}', 400, 'invalid_request'],
      ['application/json', '{not json', 400, 'malformed_json'],
      ['text/plain', 'token=a', 415, 'unsupported_media_type'],
    ];
    for (const [contentType, rawBody, status, code] of cases) {
      const answer = await call(contentType, rawBody);
      expect([rawBody, answer.status, answer.body.error.code]).toEqual([rawBody, status, code]);
    }
    // The hint RFC 7662 allows is accepted.
    const hinted = await call('application/x-www-form-urlencoded', 'token=abc&token_type_hint=access_token');
    expect(hinted.body).toEqual({ active: false });
  });
});
