import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import type { IdentitySettings, OidcProvider } from '../policy/types.js';
import type { IdentityFile } from './identity-schema.js';
import { createHash } from 'node:crypto';
import { describeIoError, readResourceServerToken, type Problem, type SecretSource } from './secrets.js';

/** The secrets of the identity section, read from where the policy names them. */
export interface IdentitySecrets {
  /** Client secrets, by provider id. */
  readonly clientSecrets: Map<string, string>;
  readonly scimToken: string | null;
}

// The reference pass reads the raw document, whatever the schema thought of it.
const objectOf = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};

/**
 * The client secrets of the identity providers, read from where the policy says (never the file itself),
 * by provider id; and the group map's targets checked against the groups the policy declares.
 */
export function checkIdentity(
  input: unknown,
  groups: ReadonlySet<string>,
  source: SecretSource,
  problems: Problem[],
): IdentitySecrets {
  const scim = objectOf(objectOf(input).scim);
  const { tokenEnv, tokenFile } = scim;
  // At least 32 characters without spaces, as a resource server's token.
  const scimToken =
    (typeof tokenEnv === 'string') !== (typeof tokenFile === 'string')
      ? readResourceServerToken(
          typeof tokenEnv === 'string' ? { tokenEnv } : { tokenFile: String(tokenFile) },
          source,
          ['identity', 'scim'],
          problems,
        )
      : null;
  const secrets = new Map<string, string>();
  const providers = objectOf(input).oidc;
  if (!Array.isArray(providers)) return { clientSecrets: secrets, scimToken };
  providers.forEach((raw: unknown, index) => {
    const provider = objectOf(raw);
    const path = ['identity', 'oidc', index];
    for (const [from, to] of Object.entries(objectOf(provider.groupMap))) {
      if (typeof to === 'string' && !groups.has(to))
        problems.push({
          path: [...path, 'groupMap', from],
          message: `unknown group "${to}"; declare it under groups`,
        });
    }
    const secret = readClientSecret(provider, source, path, problems);
    if (secret !== null && typeof provider.id === 'string') secrets.set(provider.id, secret);
  });
  return { clientSecrets: secrets, scimToken };
}

function readClientSecret(
  provider: Record<string, unknown>,
  source: SecretSource,
  path: readonly PropertyKey[],
  problems: Problem[],
): string | null {
  const { clientSecretEnv: env, clientSecretFile: file } = provider;
  if (typeof env === 'string' && typeof file !== 'string') {
    const value = source.env[env]?.trim() ?? '';
    if (value === '')
      problems.push({
        path: [...path, 'clientSecretEnv'],
        message: `environment variable ${env} is not set`,
      });
    return value === '' ? null : value;
  }
  if (typeof file === 'string' && typeof env !== 'string') {
    const where = resolve(source.file, '..', file);
    try {
      return readFileSync(where, 'utf8').trim();
    } catch (error) {
      problems.push({
        path: [...path, 'clientSecretFile'],
        message: `cannot read ${where} (${describeIoError(error)})`,
      });
    }
  }
  return null; // neither or both: the schema says so
}

export function buildIdentity(file: IdentityFile, secrets: IdentitySecrets): IdentitySettings {
  return {
    password: file.password,
    provisioning: file.provisioning,
    scimTokenHash:
      secrets.scimToken === null ? null : createHash('sha256').update(secrets.scimToken).digest('hex'),
    oidc: file.oidc.map((provider): OidcProvider => ({
      id: provider.id,
      name: provider.name,
      issuer: provider.issuer,
      clientId: provider.clientId,
      clientSecret: secrets.clientSecrets.get(provider.id) ?? '',
      scopes: provider.scopes,
      usernameClaim: provider.usernameClaim,
      groupsClaim: provider.groupsClaim,
      groupMap: new Map(Object.entries(provider.groupMap)),
      mfaAmr: provider.mfaAmr,
    })),
  };
}
