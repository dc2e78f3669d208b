import { postgresSecret, type PostgresLogin, type PsqlEnvironment } from '../../api/postgres-login.js';
import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import { UserError } from '../../api/errors.js';
import type { StoredCredential } from './vault.js';

/**
 * Opens a terminal window running psql, connected through `environment` alone: no value of it may
 * appear on any command line (psql's or the terminal's), where every local user could read it.
 * Fails with a UserError that says what to install when psql or a terminal is missing.
 */
export interface PsqlLauncher {
  open(environment: PsqlEnvironment): Promise<void>;
}

/** The login a stored credential holds; refused with a sentence when it is not a database login. */
export function postgresLogin(credential: StoredCredential): PostgresLogin {
  const login = postgresSecret.safeParse(credential.secret);
  if (credential.kind !== POSTGRES_KIND || !login.success) {
    throw new UserError(
      'not_a_database_login',
      'This grant’s credential is not a PostgreSQL login, so there is no connection URI or psql session to open.',
    );
  }
  return login.data;
}

/** Where no launcher was given (a headless run): Open psql says what to do instead. */
export const noTerminal: PsqlLauncher = {
  open: () =>
    Promise.reject(
      new UserError(
        'psql_unavailable',
        'Timebox cannot open a terminal here. Use Copy connection URI and paste it into your PostgreSQL client.',
      ),
    ),
};
