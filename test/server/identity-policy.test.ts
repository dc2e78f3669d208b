import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from '../../server/config/load.js';
import type { Policy } from '../../server/policy/types.js';

const SECRET_ENV = { TIMEBOX_OIDC_ACME_SECRET: 'acme-client-secret' };

/** A small organisation; `identity` is appended as written. */
const withIdentity = (identity: string): string => `
version: 1
groups:
  engineers: {}
users:
  alice:
    displayName: Alice
    passwordHash: scrypt:32768:8:1:c2FsdA==:a2V5
    groups: [engineers]
resources: {}
${identity}`;

function parse(identity: string, env: NodeJS.ProcessEnv = SECRET_ENV): Policy {
  return parsePolicy({ file: 'identity-policy.test.ts', text: withIdentity(identity), env });
}

/** The paths and messages of the problems the text is refused with. */
function problems(
  identity: string,
  env: NodeJS.ProcessEnv = SECRET_ENV,
): { path: string; message: string }[] {
  try {
    parse(identity, env);
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map(({ path, message }) => ({ path, message }));
    throw error;
  }
  throw new Error('the policy loaded');
}

const ACME = `identity:
  oidc:
    - id: acme
      name: Acme SSO
      issuer: https://login.acme.example
      clientId: timebox
      clientSecretEnv: TIMEBOX_OIDC_ACME_SECRET`;

describe('the identity section of the policy', () => {
  it('is optional: passwords only, no providers', () => {
    expect(parse('').identity).toEqual({
      password: true,
      oidc: [],
      provisioning: 'jit',
      scimTokenHash: null,
    });
  });

  it('reads a provider with its defaults and its secret from the environment', () => {
    const [acme] = parse(`${ACME}
      groupMap: { eng-all: engineers }
  password: false
  provisioning: jit`).identity.oidc;
    expect(acme).toEqual({
      id: 'acme',
      name: 'Acme SSO',
      issuer: 'https://login.acme.example',
      clientId: 'timebox',
      clientSecret: 'acme-client-secret',
      scopes: ['openid', 'profile', 'email', 'groups'],
      usernameClaim: 'preferred_username',
      groupsClaim: 'groups',
      groupMap: new Map([['eng-all', 'engineers']]),
      mfaAmr: ['mfa', 'otp', 'hwk', 'swk'],
    });
  });

  it.each([
    [
      'an unset secret variable',
      ACME,
      {},
      'identity.oidc.0.clientSecretEnv',
      /TIMEBOX_OIDC_ACME_SECRET is not set/,
    ],
    [
      'no secret reference',
      ACME.replace('      clientSecretEnv: TIMEBOX_OIDC_ACME_SECRET', ''),
      SECRET_ENV,
      'identity.oidc.0.clientSecretEnv',
      /clientSecretEnv or clientSecretFile/,
    ],
    [
      'a secret written inline',
      `${ACME}\n      clientSecret: hunter2`,
      SECRET_ENV,
      'identity.oidc.0.clientSecret',
      /unknown field/,
    ],
    [
      'a group map to a group the policy lacks',
      `${ACME}\n      groupMap: { eng-all: platform }`,
      SECRET_ENV,
      'identity.oidc.0.groupMap.eng-all',
      /unknown group "platform"/,
    ],
    [
      'a plain-http issuer elsewhere than this machine',
      ACME.replace('https://login.acme.example', 'http://login.acme.example'),
      SECRET_ENV,
      'identity.oidc.0.issuer',
      /https issuer/,
    ],
    [
      'scopes without openid',
      `${ACME}\n      scopes: [profile]`,
      SECRET_ENV,
      'identity.oidc.0.scopes',
      /openid/,
    ],
    [
      'password sign-in off with no provider',
      'identity:\n  password: false',
      SECRET_ENV,
      'identity.password',
      /nobody could sign in/,
    ],
    [
      'SCIM provisioning without its token',
      `${ACME}\n  provisioning: scim`,
      SECRET_ENV,
      'identity.scim',
      /scim.tokenEnv or scim.tokenFile/,
    ],
    [
      'a SCIM token too short to be safe',
      `${ACME}\n  scim: { tokenEnv: TIMEBOX_SCIM_TOKEN }`,
      { ...SECRET_ENV, TIMEBOX_SCIM_TOKEN: 'short' },
      'identity.scim.tokenEnv',
      /at least 32 characters/,
    ],
  ])('refuses %s', (_name, identity, env, path, message) => {
    const found = problems(identity, env).find((problem) => problem.path === path);
    expect(found?.message).toMatch(message);
  });

  it('refuses two providers with one id', () => {
    const second = ACME.replace('identity:\n  oidc:\n', '');
    expect(problems(`${ACME}\n${second}`).map((problem) => problem.path)).toContain('identity.oidc.1.id');
  });

  it('reads a role’s step-up: mfa required and a fresh sign-in', () => {
    const text = withIdentity('').replace(
      'resources: {}',
      `resources:
  db:
    name: Orders
    kind: database
    roles:
      write:
        requesters: [engineers]
        duration: { min: 1m, default: 10m, max: 1h }
        approval: auto
        mfa: required
        freshAuth: 15m`,
    );
    const role = parsePolicy({ file: 'step-up', text, env: {} }).resources.get('db')?.roles.get('write');
    expect(role).toMatchObject({ mfaRequired: true, freshAuthSeconds: 900 });
    expect(() =>
      parsePolicy({ file: 'step-up', text: text.replace('mfa: required', 'mfa: yes'), env: {} }),
    ).toThrow(/mfa: expected required/);
  });
});
