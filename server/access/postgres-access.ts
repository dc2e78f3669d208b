import pg from 'pg';
import type { GrantRecord } from '../domain/records.js';
import { isIdOf } from '../lib/ids.js';
import type { PostgresRoleAccess, PostgresTarget, Resource } from '../policy/types.js';
import type {
  AccessOutcome,
  AccessProvisioner,
  AccessTarget,
  CredentialIssuer,
} from '../credentials/issuer.js';
import { randomPassword, scramVerifier } from './scram.js';

const { escapeIdentifier, escapeLiteral } = pg;

/** The credential of a `postgres` grant: everything a client needs to connect, and the same as a URI. */
export interface PostgresCredential {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly sslmode: string;
  readonly uri: string;
  [key: string]: unknown;
}

export interface PostgresAccessLogger {
  warn(details: object, message: string): void;
}

// A live session gets this long to end after pg_terminate_backend before revocation moves on.
const TERMINATE_WAIT_MS = 5000;

/**
 * Just-in-time PostgreSQL logins. Each grant gets its own login role, `<rolePrefix><grant id>`, that
 * joins the role's group roles and gets its schema privileges, with a connection limit and VALID UNTIL
 * the grant's expiry (so even a Timebox that never comes back cannot leave a login that works on).
 *
 * The password is never stored: each credential fetch sets a new random one (sent to PostgreSQL as a
 * SCRAM verifier, so not even its statement log sees it) and hands it over once. Earlier passwords of the
 * grant stop working for new connections; sessions already open go on until the grant ends.
 *
 * Every operation on a login runs under a transaction-scoped advisory lock on its name, so a credential
 * fetch, an extension and a revocation of one grant never interleave, whichever instance runs them.
 */
export class PostgresAccess implements CredentialIssuer, AccessProvisioner {
  readonly kind = 'postgres';
  readonly access: AccessProvisioner = this;
  private readonly pool: pg.Pool;
  private readonly target: PostgresTarget;

  constructor(
    private readonly resource: Resource,
    logger: PostgresAccessLogger,
  ) {
    if (!resource.postgres) throw new Error(`resource ${resource.id} has no postgres settings`);
    this.target = resource.postgres;
    this.pool = new pg.Pool({
      connectionString: this.target.adminUrl,
      application_name: 'timebox',
      max: 4,
      // A database that does not answer fails the operation, which the task queue retries with backoff.
      connectionTimeoutMillis: 5000,
      statement_timeout: 15_000,
      idleTimeoutMillis: 30_000,
    });
    // An idle connection the server drops (a restart, a failover) must not take the service down with it.
    this.pool.on('error', (error) => {
      logger.warn({ err: error, resourceId: resource.id }, 'an idle admin connection to the database failed');
    });
  }

  loginName(grantId: string): string {
    return `${this.target.rolePrefix}${grantId}`;
  }

  async provision(target: AccessTarget): Promise<AccessOutcome> {
    const login = this.loginName(target.grantId);
    return this.underLock(login, (client) => this.ensureLogin(client, login, target));
  }

  /** A login lives until its grant's expiry and is dropped at once at revocation: it is not renewed. */
  async issue(grant: GrantRecord): Promise<{ secret: PostgresCredential; expiresAt: Date }> {
    const login = this.loginName(grant.id);
    const password = randomPassword();
    const verifier = await scramVerifier(password);
    await this.underLock(login, async (client) => {
      await this.ensureLogin(client, login, {
        grantId: grant.id,
        userId: grant.user_id,
        resourceId: grant.resource_id,
        role: grant.role,
        expiresAt: grant.expires_at,
      });
      await client.query(`ALTER ROLE ${escapeIdentifier(login)} PASSWORD ${escapeLiteral(verifier)}`);
    });
    const { host, port, database, sslmode } = this.target;
    const uriHost = host.includes(':') ? `[${host}]` : host;
    const uri = `postgresql://${encodeURIComponent(login)}:${encodeURIComponent(password)}@${uriHost}:${port}/${encodeURIComponent(database)}?sslmode=${sslmode}`;
    return {
      secret: { host, port, database, user: login, password, sslmode, uri },
      expiresAt: grant.expires_at,
    };
  }

  async revoke(target: Pick<AccessTarget, 'grantId'>): Promise<AccessOutcome> {
    const login = this.loginName(target.grantId);
    const name = escapeIdentifier(login);
    // First no new sessions, committed, so nothing can log in while the live ones are ended.
    const existed = await this.underLock(login, async (client) => {
      if (!(await findLogin(client, login))) return false;
      await client.query(`ALTER ROLE ${name} NOLOGIN`);
      return true;
    });
    if (!existed) return { login, existed: false, sessionsEnded: 0 };
    // VALID UNTIL and NOLOGIN only stop new logins: sessions already open must be ended.
    const sessionsEnded = await this.endSessions(login);
    await this.underLock(login, async (client) => {
      if (!(await findLogin(client, login))) return;
      // What the login owns goes with it, and so do the privileges granted to it in this database.
      await client.query(`DROP OWNED BY ${name}`);
      await client.query(`DROP ROLE ${name}`);
    });
    return { login, existed: true, sessionsEnded };
  }

  async provisionedGrantIds(): Promise<string[]> {
    const { rows } = await this.pool.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1)`,
      [this.target.rolePrefix],
    );
    return rows
      .map((row) => row.rolname.slice(this.target.rolePrefix.length))
      .filter((grantId) => isIdOf('grt', grantId));
  }

  /** Sessions of each grant's login now, from the target's own statistics (pg_stat_activity). */
  async openSessions(grantIds: readonly string[]): Promise<Map<string, number>> {
    if (grantIds.length === 0) return new Map();
    const { rows } = await this.pool.query<{ usename: string; sessions: number }>(
      `SELECT usename, count(*)::int AS sessions FROM pg_stat_activity
        WHERE usename = ANY($1::text[]) GROUP BY usename`,
      [grantIds.map((grantId) => this.loginName(grantId))],
    );
    return new Map(
      rows.map((row) => [row.usename.slice(this.target.rolePrefix.length), row.sessions] as const),
    );
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /** The login exists, may log in until the grant's expiry, and has what its role maps to. */
  private async ensureLogin(
    client: pg.PoolClient,
    login: string,
    target: AccessTarget,
  ): Promise<AccessOutcome> {
    const name = escapeIdentifier(login);
    const validUntil = escapeLiteral(target.expiresAt.toISOString());
    const existing = await findLogin(client, login);
    if (existing) {
      // Grants only ever get longer: a fetch that read the grant before an extension must not pull
      // VALID UNTIL back to the old expiry.
      const later =
        existing.rolvaliduntil !== null && existing.rolvaliduntil.getTime() > target.expiresAt.getTime()
          ? existing.rolvaliduntil
          : target.expiresAt;
      await client.query(`ALTER ROLE ${name} WITH LOGIN VALID UNTIL ${escapeLiteral(later.toISOString())}`);
      return { login, created: false, validUntil: later.toISOString() };
    }
    const access = this.accessOf(target.role);
    // Created without a password, so no password opens it until the owner fetches the credential.
    await client.query(
      `CREATE ROLE ${name} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
         CONNECTION LIMIT ${this.target.connectionLimit} VALID UNTIL ${validUntil} PASSWORD NULL`,
    );
    for (const group of access.memberOf) {
      await client.query(`GRANT ${escapeIdentifier(group)} TO ${name}`);
    }
    for (const [schema, privileges] of access.schemas) {
      const schemaName = escapeIdentifier(schema);
      await client.query(`GRANT USAGE ON SCHEMA ${schemaName} TO ${name}`);
      await client.query(`GRANT ${privileges.join(', ')} ON ALL TABLES IN SCHEMA ${schemaName} TO ${name}`);
      // Inserting into a table with a serial or identity column needs its sequence.
      if (privileges.includes('INSERT')) {
        await client.query(`GRANT USAGE ON ALL SEQUENCES IN SCHEMA ${schemaName} TO ${name}`);
      }
    }
    await client.query(
      `COMMENT ON ROLE ${name} IS ${escapeLiteral(
        `Timebox: ${target.resourceId}/${target.role} for ${target.userId}, grant ${target.grantId}; dropped when the grant ends.`,
      )}`,
    );
    return { login, created: true, validUntil: target.expiresAt.toISOString() };
  }

  private accessOf(role: string): PostgresRoleAccess {
    const access = this.resource.roles.get(role)?.postgres;
    if (!access) throw new Error(`${this.resource.id}/${role} is not a role of this postgres resource`);
    return access;
  }

  private async endSessions(login: string): Promise<number> {
    const { rows } = await this.pool.query<{ ended: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, $2))::int AS ended
         FROM pg_stat_activity WHERE usename = $1`,
      [login, TERMINATE_WAIT_MS],
    );
    return rows[0]?.ended ?? 0;
  }

  private async underLock<T>(login: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    // A connection lost while checked out is reported on the client; without a listener it would
    // take the process down. The query in progress fails with it, which is what we act on.
    const onLost = (error: Error): void => {
      failure ??= error;
    };
    client.on('error', onLost);
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`timebox:login:${login}`]);
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', onLost);
      // A connection that failed mid-way may be broken: the pool replaces it rather than reuse it.
      client.release(failure);
    }
  }
}

/** The login's row, when it exists. */
async function findLogin(
  client: pg.PoolClient,
  login: string,
): Promise<{ readonly rolvaliduntil: Date | null } | undefined> {
  const { rows } = await client.query<{ rolvaliduntil: Date | null }>(
    `SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1`,
    [login],
  );
  return rows[0];
}
