import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import { postgresSecret, psqlEnvironment } from '../../api/postgres-login.js';
import type { GrantView } from '../../api/schemas.js';

export interface FetchedCredential {
  readonly grantId: string;
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: Readonly<Record<string, unknown>>;
}

/**
 * The variables `timebox exec` adds to the command's environment: the grant's id and expiry, and the
 * credential as its users expect it. A PostgreSQL login as libpq's PG* variables (psql, pg_dump and every
 * libpq client read them); the built-in signed token as TIMEBOX_TOKEN; any other issuer's string fields as
 * TIMEBOX_SECRET_<FIELD>. `credentialUrl` serves the renewed token while the command runs.
 */
export function credentialEnvironment(
  grant: GrantView,
  credential: FetchedCredential,
  credentialUrl: string | null,
): Record<string, string> {
  const environment: Record<string, string> = {
    TIMEBOX_GRANT_ID: grant.id,
    TIMEBOX_EXPIRES_AT: grant.expiresAt,
  };
  const login = postgresSecret.safeParse(credential.secret);
  if (credential.kind === POSTGRES_KIND && login.success)
    return { ...environment, ...psqlEnvironment(login.data) };
  for (const [field, value] of Object.entries(credential.secret)) {
    if (field === 'token' && typeof value === 'string') environment.TIMEBOX_TOKEN = value;
    else if (typeof value === 'string' || typeof value === 'number')
      environment[`TIMEBOX_SECRET_${field.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`] = String(value);
  }
  if (credentialUrl !== null) environment.TIMEBOX_CREDENTIAL_URL = credentialUrl;
  return environment;
}
