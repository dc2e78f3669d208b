import { z } from 'zod';

/** The secret of a `postgres` credential, as the service hands it over. */
export const postgresSecret = z.object({
  host: z.string().min(1),
  port: z.int().min(1).max(65_535),
  database: z.string().min(1),
  user: z.string().min(1),
  password: z.string().min(1),
  sslmode: z.string().min(1),
  uri: z.string().startsWith('postgres'),
});
export type PostgresLogin = z.output<typeof postgresSecret>;

/** libpq's environment variables for one login (https://www.postgresql.org/docs/current/libpq-envars.html). */
export type PsqlEnvironment = Readonly<
  Record<'PGHOST' | 'PGPORT' | 'PGDATABASE' | 'PGUSER' | 'PGPASSWORD' | 'PGSSLMODE', string>
>;

export function psqlEnvironment(login: PostgresLogin): PsqlEnvironment {
  return {
    PGHOST: login.host,
    PGPORT: String(login.port),
    PGDATABASE: login.database,
    PGUSER: login.user,
    PGPASSWORD: login.password,
    PGSSLMODE: login.sslmode,
  };
}
