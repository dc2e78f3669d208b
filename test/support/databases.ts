import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../../server/index.js';

/**
 * The databases the server suites run on: PGlite always, PostgreSQL when TEST_DATABASE_URL names a server
 * we may create databases on. In CI (CI=true) PostgreSQL is required: a missing one fails the run.
 */
export type DatabaseKind = 'pglite' | 'postgres';

const adminUrl = process.env.TEST_DATABASE_URL?.trim() ?? '';
if (process.env.CI === 'true' && adminUrl === '') {
  throw new Error(
    'CI=true but TEST_DATABASE_URL is not set: the PostgreSQL half of the suite cannot be skipped in CI.',
  );
}

export const DATABASES: readonly DatabaseKind[] = adminUrl ? ['pglite', 'postgres'] : ['pglite'];

if (!adminUrl) {
  console.warn('TEST_DATABASE_URL is not set: the server suites run on PGlite only, not on PostgreSQL.');
}

export function postgresAvailable(): boolean {
  return adminUrl !== '';
}

/** TEST_DATABASE_URL: a PostgreSQL server the suites may create databases and roles on. */
export function postgresServerUrl(): string {
  if (adminUrl === '') throw new Error('TEST_DATABASE_URL is not set');
  return adminUrl;
}

export interface TestDatabase {
  /** null for PGlite in memory. */
  readonly url: string | null;
  drop(): Promise<void>;
}

/** A new, empty database for one suite, so suites running in parallel never see each other's rows. */
export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'pglite') return { url: null, drop: () => Promise.resolve() };
  const name = `timebox_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * The service's Database on a new, empty database of `kind`, for suites that test the database layer
 * itself; `close` closes it and drops the database.
 */
export async function openTestDatabase(
  kind: DatabaseKind,
  poolSize?: number,
): Promise<{ readonly db: Database; readonly close: () => Promise<void> }> {
  const testDatabase = await createTestDatabase(kind);
  const db = await openDatabase({
    databaseUrl: testDatabase.url,
    dataDir: null,
    logger: { warn: () => undefined },
    ...(poolSize === undefined ? {} : { poolSize }),
  });
  return {
    db,
    close: async () => {
      await db.close();
      await testDatabase.drop();
    },
  };
}
