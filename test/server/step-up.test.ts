import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy, Resource, Role } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';
import { acmeProvider, type RunningIdp, startIdp } from '../support/oidc-idp.js';
import { signInThroughBrowser } from '../support/native-sign-in-steps.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

const CLIENT_SECRET = 'step-up-client-secret';
const FRESH_SECONDS = 900;

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The demo's role, changed as `change` says. */
function withRole(policy: Policy, resourceId: string, roleName: string, change: Partial<Role>): Policy {
  const resource = policy.resources.get(resourceId);
  const role = resource?.roles.get(roleName);
  if (!resource || !role) throw new Error(`the demo has no ${resourceId}/${roleName}`);
  const changed: Resource = {
    ...resource,
    roles: new Map([...resource.roles, [roleName, { ...role, ...change }]]),
  };
  return { ...policy, resources: new Map([...policy.resources, [resourceId, changed]]) };
}

async function stepUpPolicy(issuer: string): Promise<Policy> {
  const demo = await demoOrganisation();
  const policy = withRole(withRole(demo, 'sandbox', 'operator', { mfaRequired: true }), 'prod-db', 'read', {
    freshAuthSeconds: FRESH_SECONDS,
  });
  return {
    ...policy,
    identity: {
      password: true,
      provisioning: 'jit',
      scimTokenHash: null,
      oidc: [acmeProvider(issuer, CLIENT_SECRET, { mfaAmr: ['otp'] })],
    },
  };
}

describe.each(DATABASES)('step-up for roles that ask for MFA or a recent sign-in, on %s', (kind) => {
  let idp: RunningIdp;
  let running: RunningService;

  beforeAll(async () => {
    idp = await startIdp({
      erin: {
        password: 'erin-pw',
        otp: '135790',
        claims: { preferred_username: 'erin', name: 'Erin Sato', groups: ['engineers'] },
      },
    });
    // The provider's auth_time is real time: the service's clock starts there too.
    running = await startService({
      kind,
      policy: await stepUpPolicy(idp.issuer),
      clock: new ManualClock(Date.now()),
    });
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

  const ssoToken = async (otp?: string): Promise<string> => {
    const { landing, pkce } = await signInThroughBrowser({
      serviceUrl: running.url,
      provider: 'acme',
      username: 'erin',
      password: 'erin-pw',
      maxAge: FRESH_SECONDS,
      ...(otp === undefined ? {} : { otp }),
    });
    const session = await running.api.post<{ token: string }>('/v1/auth/oidc/token', undefined, {
      code: landing.searchParams.get('code') ?? '',
      codeVerifier: pkce.verifier,
    });
    return session.body.token;
  };
  const ask = (token: string, resourceId: string, role: string) =>
    running.api.post<ErrorBody & { id: string }>('/v1/requests', token, {
      resourceId,
      role,
      durationSeconds: 600,
      reason: 'step-up test',
    });
  const mine = async (token: string): Promise<number> =>
    (await running.api.get<{ items: unknown[] }>('/v1/requests?scope=mine', token)).body.items.length;

  it('asks a session without MFA to sign in again at its provider, creating nothing', async () => {
    const token = await ssoToken();
    const refused = await ask(token, 'sandbox', 'operator');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('step_up_required');
    expect(refused.body.error.details).toEqual({ provider: 'acme', maxAgeSeconds: 0, mfa: true });
    expect(await mine(token)).toBe(0);

    const stepped = await ssoToken('135790');
    expect((await ask(stepped, 'sandbox', 'operator')).status).toBe(201);
  });

  it('asks a session signed in too long ago to sign in again, then takes the request', async () => {
    const alice = await running.api.login('alice');
    const first = await ask(alice, 'prod-db', 'read');
    expect(first.status).toBe(201);
    // Withdrawn, so that the same request may be made again below.
    expect((await running.api.post(`/v1/requests/${first.body.id}/cancel`, alice)).status).toBe(200);
    await running.advance((FRESH_SECONDS + 60) * 1000);
    const stale = await ask(alice, 'prod-db', 'read');
    expect(stale.status).toBe(401);
    expect(stale.body.error.details).toEqual({ provider: null, maxAgeSeconds: FRESH_SECONDS, mfa: false });
    expect(await mine(alice)).toBe(1);
    const again = await running.api.login('alice');
    expect((await ask(again, 'prod-db', 'read')).status).toBe(201);
  });
});
