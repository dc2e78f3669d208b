import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { hashPassword, parsePolicy, type Policy } from '../../server/index.js';
import { TEST_PASSWORD_COST } from './service.js';
import { FaultProxy } from './fault-proxy.js';

/**
 * A real PostgreSQL database that a `postgres` resource hands out logins to, on the server named by
 * TEST_DATABASE_URL. Timebox administers it through a proxy the test can take down; the test connects
 * directly. Every login Timebox makes here carries a prefix of this target's own, so suites running at
 * once never touch each other's roles.
 */
export class PostgresTarget {
  readonly rolePrefix = `tbx_${randomBytes(4).toString('hex')}_`;

  private constructor(
    private readonly serverUrl: URL,
    readonly database: string,
    readonly proxy: FaultProxy,
    private readonly admin: pg.Client,
  ) {}

  static async create(serverUrl: string): Promise<PostgresTarget> {
    const server = new URL(serverUrl);
    const database = `timebox_target_${randomBytes(6).toString('hex')}`;
    await withClient(server, 'postgres', (client) => client.query(`CREATE DATABASE ${database}`));
    await withClient(server, database, async (client) => {
      await client.query(`
        CREATE SCHEMA reporting;
        CREATE TABLE reporting.sales (id serial PRIMARY KEY, amount integer NOT NULL);
        INSERT INTO reporting.sales (amount) VALUES (10), (20), (30);
        CREATE SCHEMA private;
        CREATE TABLE private.salaries (name text, amount integer);
        INSERT INTO private.salaries VALUES ('alice', 100);`);
    });
    const proxy = await FaultProxy.start({ host: server.hostname, port: Number(server.port || 5432) });
    const admin = new pg.Client({ connectionString: urlFor(server, database).toString() });
    await admin.connect();
    return new PostgresTarget(server, database, proxy, admin);
  }

  /** The admin URL the service uses: through the proxy. */
  get adminUrl(): string {
    const url = urlFor(this.serverUrl, this.database);
    url.hostname = '127.0.0.1';
    url.port = String(this.proxy.port);
    return url.toString();
  }

  /**
   * The demo organisation's people with one `postgres` resource, `warehouse`: `read` (auto-approved,
   * SELECT on schema reporting) and `write` (a team lead approves; SELECT and INSERT there). Every login
   * joins timebox_password_login, which .ci/run makes authenticate with its password.
   */
  async policy(): Promise<Policy> {
    const { text, env } = await this.policyFile();
    return parsePolicy({ file: 'warehouse.yaml', text, env });
  }

  /** `policy()` as a file's text and the environment it reads, for the server command. */
  async policyFile(): Promise<{ readonly text: string; readonly env: Record<string, string> }> {
    const passwordHash = await hashPassword('demo', TEST_PASSWORD_COST);
    const user = (name: string, groups: string[], admin = false) =>
      `  ${name}: { displayName: ${name}, groups: [${groups.join(', ')}], admin: ${String(admin)}, passwordHash: "${passwordHash}" }`;
    const text = [
      'version: 1',
      'groups: { engineers: {}, team-leads: {}, admins: {} }',
      'users:',
      user('alice', ['engineers']),
      user('dave', ['engineers']),
      user('bob', ['team-leads']),
      user('admin', ['admins'], true),
      'resources:',
      '  warehouse:',
      '    name: Warehouse',
      '    kind: postgres',
      '    postgres:',
      '      admin: { env: WAREHOUSE_ADMIN_URL }',
      `      connect: { host: ${this.serverUrl.hostname}, port: ${this.serverUrl.port || '5432'} }`,
      '      sslmode: disable',
      '      connectionLimit: 2',
      `      rolePrefix: ${this.rolePrefix}`,
      '    roles:',
      '      read:',
      '        requesters: [engineers]',
      '        duration: { min: 10s, default: 5m, max: 1h }',
      '        reasonRequired: false',
      '        approval: auto',
      '        postgres: { memberOf: [timebox_password_login], schemas: { reporting: [SELECT] } }',
      '      write:',
      '        requesters: [engineers]',
      '        duration: { min: 1m, default: 30m, max: 2h }',
      '        approval: { mode: any, approvers: { groups: [team-leads] } }',
      '        postgres: { memberOf: [timebox_password_login], schemas: { reporting: [SELECT, INSERT] } }',
    ].join('\n');
    return { text, env: { WAREHOUSE_ADMIN_URL: this.adminUrl } };
  }

  /** The login's row in pg_roles, or null when it does not exist. */
  async login(name: string): Promise<{
    rolcanlogin: boolean;
    rolvaliduntil: Date | null;
    rolconnlimit: number;
    groups: string[];
    comment: string | null;
  } | null> {
    const { rows } = await this.admin.query<{
      rolcanlogin: boolean;
      rolvaliduntil: Date | null;
      rolconnlimit: number;
      groups: string[];
      comment: string | null;
    }>(
      `SELECT r.rolcanlogin, r.rolvaliduntil, r.rolconnlimit, shobj_description(r.oid, 'pg_authid') AS comment,
              ARRAY(SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                     WHERE m.member = r.oid ORDER BY 1)::text[] AS groups
         FROM pg_roles r WHERE r.rolname = $1`,
      [name],
    );
    return rows[0] ?? null;
  }

  /** Logins of ours (this target's prefix) that exist now. */
  async logins(): Promise<string[]> {
    const { rows } = await this.admin.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE starts_with(rolname, $1) ORDER BY 1`,
      [this.rolePrefix],
    );
    return rows.map((row) => row.rolname);
  }

  /** Runs SQL as the administrator, in the target database. */
  async asAdmin(sql: string): Promise<void> {
    await this.admin.query(sql);
  }

  /**
   * Whether logins of timebox_password_login must present their password on this server (the pg_hba
   * rule .ci/run adds); where it is missing, a wrong password would be let in, proving nothing.
   */
  async passwordsEnforced(): Promise<boolean> {
    const { rows } = await this.admin.query<{ enforced: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM pg_hba_file_rules
                       WHERE '+timebox_password_login' = ANY(user_name) AND auth_method = 'scram-sha-256'
                         AND error IS NULL) AS enforced`,
    );
    return rows[0]?.enforced ?? false;
  }

  async drop(): Promise<void> {
    await this.proxy.close();
    for (const name of await this.logins()) {
      await this.admin.query(`DROP OWNED BY ${pg.escapeIdentifier(name)}`);
      await this.admin.query(`DROP ROLE ${pg.escapeIdentifier(name)}`);
    }
    await this.admin.end();
    await withClient(this.serverUrl, 'postgres', (client) =>
      client.query(`DROP DATABASE IF EXISTS ${this.database} WITH (FORCE)`),
    );
  }
}

function urlFor(server: URL, database: string): URL {
  const url = new URL(server.toString());
  url.pathname = `/${database}`;
  return url;
}

async function withClient<T>(
  server: URL,
  database: string,
  body: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(server, database).toString() });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}
