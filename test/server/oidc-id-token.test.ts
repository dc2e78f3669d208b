import { acmeProvider } from '../support/oidc-idp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Policy } from '../../server/policy/types.js';
import { DATABASES } from '../support/databases.js';
import { startForgedIdp, type ForgedIdp, type Forgery } from '../support/forged-idp.js';
import { signInThroughBrowser } from '../support/native-sign-in-steps.js';
import { demoOrganisation, startService, type RunningService } from '../support/service.js';

async function withProvider(issuer: string): Promise<Policy> {
  return {
    ...(await demoOrganisation()),
    identity: {
      password: true,
      provisioning: 'jit',
      scimTokenHash: null,
      oidc: [acmeProvider(issuer, 'forged-idp-client-secret')],
    },
  };
}

describe.each(DATABASES)('ID tokens the service refuses, on %s', (kind) => {
  let idp: ForgedIdp;
  let running: RunningService;

  beforeAll(async () => {
    idp = await startForgedIdp('timebox');
    running = await startService({ kind, policy: await withProvider(idp.issuer) });
  });
  afterAll(async () => {
    await running.stop();
    await idp.stop();
  });

  const signIn = async (forgery: Forgery): Promise<URL> => {
    idp.forge(forgery);
    const { landing } = await signInThroughBrowser({
      serviceUrl: running.url,
      provider: 'acme',
      username: 'mallory',
      password: 'unused',
    });
    return landing;
  };
  const people = async (): Promise<string[]> =>
    (await running.service.db.query<{ id: string }>('SELECT id FROM directory_users')).map((row) => row.id);
  const codes = async (): Promise<number> =>
    (await running.service.db.query<{ n: number }>('SELECT count(*)::int AS n FROM oidc_codes'))[0]?.n ?? -1;

  it.each<[Forgery, string]>([
    ['bad-signature', 'signed by a key not in its JWKS'],
    ['wrong-issuer', 'from another issuer'],
    ['wrong-audience', 'for another client'],
    ['expired', 'that has expired'],
    ['replayed-nonce', 'with the nonce of an earlier sign-in'],
  ])('sends the client an error for an ID token %s (%s), creating nobody', async (forgery) => {
    // A good sign-in first: the replayed nonce is this one's, and it proves the stand-in works.
    const good = await signIn('none');
    expect(good.searchParams.get('code')).not.toBeNull();
    await running.service.db.query('DELETE FROM directory_users');
    const codesBefore = await codes();

    const landing = await signIn(forgery);
    expect(landing.searchParams.get('error')).toBe('invalid_id_token');
    expect(landing.searchParams.get('error_description')).toMatch(/failed a check/);
    expect(landing.searchParams.get('code')).toBeNull();
    expect(landing.searchParams.get('state')).not.toBeNull();
    expect(await people()).toEqual([]);
    expect(await codes()).toBe(codesBefore);
  });

  it('passes the provider’s own refusal on to the client', async () => {
    const landing = await signIn('refuses');
    expect(landing.searchParams.get('error')).toBe('access_denied');
    expect(landing.searchParams.get('error_description')).toBe(
      'The user is not assigned to this application.',
    );
    expect(landing.searchParams.get('code')).toBeNull();
  });
});
