import type { OidcProvider } from '../policy/types.js';
import { ProviderRefusal } from './oidc-client.js';

const USERNAME = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

/** The person an ID token describes, in the policy's terms. */
export interface MappedPerson {
  readonly username: string;
  readonly displayName: string;
  readonly groups: string[];
  readonly mfa: boolean;
}

/**
 * Reads the username, name, groups and `amr` of an ID token. IdP groups become policy groups through the
 * provider's groupMap, or as they are when the policy has a group of that name; others are dropped.
 */
export function mapClaims(
  provider: OidcProvider,
  policyGroups: ReadonlySet<string>,
  claims: Readonly<Record<string, unknown>>,
): MappedPerson {
  const rawUsername = claims[provider.usernameClaim];
  const username = typeof rawUsername === 'string' ? rawUsername.trim().toLowerCase() : '';
  if (!USERNAME.test(username)) {
    throw new ProviderRefusal(
      'access_denied',
      `The identity provider sent no usable username in the "${provider.usernameClaim}" claim (letters, digits and . _ @ + -); ask an administrator to check usernameClaim.`,
    );
  }
  const name = claims.name;
  const groups = new Set<string>();
  for (const group of stringList(claims[provider.groupsClaim])) {
    const mapped = provider.groupMap.get(group) ?? (policyGroups.has(group) ? group : undefined);
    if (mapped !== undefined) groups.add(mapped);
  }
  const amr = stringList(claims.amr);
  return {
    username,
    displayName: typeof name === 'string' && name.trim() !== '' ? name.trim().slice(0, 100) : username,
    groups: [...groups].sort(),
    mfa: amr.some((method) => provider.mfaAmr.includes(method)),
  };
}

/** A claim that is a list of strings, or one string (some providers send a single group that way). */
function stringList(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
