import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { parseDuration } from '../api/duration.js';
import { createService } from './app.js';
import type { DatabaseTimeouts } from './db/pg-client.js';
import { hashPassword, passwordProblem } from './auth/passwords.js';
import { loadPolicyFile, PolicyError } from './config/load.js';
import { demoPolicy } from './demo/demo.js';
import { processLogDestination } from './ops/log-destination.js';
import { StopDeadline } from './ops/stop-deadline.js';

const USAGE = `Timebox grant service

  npm run server -- [options]            run the service
  npm run server -- hash-password        read a password on stdin, print its hash for the policy file

Options (and the environment variables that set them):
  --port <n>         TIMEBOX_PORT          port to listen on (8787)
  --host <address>   TIMEBOX_HOST          address to listen on (127.0.0.1)
  --data <dir>       TIMEBOX_DATA          PGlite data folder (./.timebox/data)
  --config <file>    TIMEBOX_CONFIG        policy file (./timebox.yaml; without one, the demo runs)
  --demo             TIMEBOX_DEMO=1        run the demo organisation instead of a policy file
  --public-url <url> TIMEBOX_PUBLIC_URL    the URL clients use (the tokens' issuer)
  --trust-proxy <v>  TIMEBOX_TRUST_PROXY   behind a reverse proxy: its addresses or CIDR ranges, so the
                                           client address (for sign-in limits and logs) comes from
                                           X-Forwarded-For; e.g. 10.0.0.0/8,127.0.0.1
                     DATABASE_URL          postgres://… to use PostgreSQL instead of PGlite
  --database-pool <n>                      PostgreSQL connections per instance (twice the cores, 4 to 10);
                     TIMEBOX_DATABASE_POOL also sets it
  PostgreSQL's bounded waits, in milliseconds (a request waits at most these, then gets 503):
                     TIMEBOX_DATABASE_CONNECT_TIMEOUT_MS  to connect or get a pooled connection (3000)
                     TIMEBOX_DATABASE_QUERY_TIMEOUT_MS    for a statement's answer (5000)
                     TIMEBOX_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS
                                                          a transaction left idle ends (10000)
                     TIMEBOX_DATABASE_KEEPALIVE_MS        TCP keepalive's first probe (10000)
  --shutdown-timeout <duration>            how long a stop (SIGTERM, SIGINT) may take before the process
                     TIMEBOX_SHUTDOWN_TIMEOUT  is ended anyway (the policy's service.shutdownTimeout, 10s);
                                           a second signal ends it at once
                     TIMEBOX_DEMO_PASSWORD every demo user's password (demo)
                     TIMEBOX_LOG_LEVEL     trace, debug, info, warn or error (info)
  --help`;

class UsageError extends Error {}

/**
 * Every demo user's password: TIMEBOX_DEMO_PASSWORD, which like any password we set needs 12 characters,
 * or the demo's published "demo", which protects nothing and is documented as such.
 */
function demoPasswordOf(env: NodeJS.ProcessEnv): string {
  const chosen = fromEnv(env, 'TIMEBOX_DEMO_PASSWORD');
  if (chosen === undefined) return 'demo';
  const problem = passwordProblem(chosen);
  if (problem !== null) throw new UsageError(`TIMEBOX_DEMO_PASSWORD: ${problem}`);
  return chosen;
}

const DEFAULT_CONFIG = 'timebox.yaml';

/**
 * Which proxies may speak for the client: their addresses and CIDR ranges. Never "trust anyone", which
 * would let any client pick the address its sign-in attempts are counted under.
 */
function readTrustProxy(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const entries = text.split(',').map((entry) => entry.trim());
  const address = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:]*:[0-9a-fA-F:.]*)(?:\/\d{1,3})?$/;
  if (
    entries.length > 0 &&
    entries.every((entry) => address.test(entry) && isIP(entry.split('/')[0] ?? '') !== 0)
  )
    return entries;
  throw new UsageError(
    `--trust-proxy takes the proxies' addresses or CIDR ranges, comma-separated; not "${text}".`,
  );
}

interface Settings {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly demo: boolean;
  /** No policy was named and ./timebox.yaml does not exist, so the demo runs. */
  readonly demoImplied: boolean;
  readonly publicUrl: string | undefined;
  readonly databaseUrl: string | null;
  readonly trustProxy: string[] | undefined;
  readonly databasePoolSize: number | undefined;
  readonly databaseTimeouts: Partial<DatabaseTimeouts>;
  /** Overrides the policy's `service.shutdownTimeout`. */
  readonly shutdownTimeoutSeconds: number | undefined;
}

const TIMEOUT_VARIABLES: Readonly<Record<keyof DatabaseTimeouts, string>> = {
  connectMs: 'TIMEBOX_DATABASE_CONNECT_TIMEOUT_MS',
  queryMs: 'TIMEBOX_DATABASE_QUERY_TIMEOUT_MS',
  idleInTransactionMs: 'TIMEBOX_DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
  keepAliveMs: 'TIMEBOX_DATABASE_KEEPALIVE_MS',
};

/** The database timeouts set in the environment: whole milliseconds, from 100 ms to 10 minutes. */
function readDatabaseTimeouts(env: NodeJS.ProcessEnv): Partial<DatabaseTimeouts> {
  const timeouts: Partial<Record<keyof DatabaseTimeouts, number>> = {};
  for (const [setting, name] of Object.entries(TIMEOUT_VARIABLES) as [keyof DatabaseTimeouts, string][]) {
    const text = fromEnv(env, name);
    if (text === undefined) continue;
    const ms = Number(text);
    if (!/^\d+$/.test(text) || ms < 100 || ms > 600_000)
      throw new UsageError(`${name} must be a number of milliseconds from 100 to 600000, not "${text}".`);
    timeouts[setting] = ms;
  }
  return timeouts;
}

/** An environment variable's value; set but empty counts as unset, as shells and compose files produce it. */
function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      config: { type: 'string' },
      demo: { type: 'boolean' },
      'public-url': { type: 'string' },
      'trust-proxy': { type: 'string' },
      'database-pool': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const portText = values.port ?? fromEnv(env, 'TIMEBOX_PORT') ?? '8787';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65_535)
    throw new UsageError(`--port must be a number from 0 to 65535, not "${portText}".`);
  const databaseUrl = fromEnv(env, 'DATABASE_URL') ?? null;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new UsageError('DATABASE_URL must be a postgres:// or postgresql:// URL.');
  }
  const demo = values.demo ?? ['1', 'true'].includes(fromEnv(env, 'TIMEBOX_DEMO') ?? '');
  const config = values.config ?? fromEnv(env, 'TIMEBOX_CONFIG');
  if (demo && config) throw new UsageError('Choose --demo or --config, not both.');
  const publicUrl = values['public-url'] ?? fromEnv(env, 'TIMEBOX_PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(publicUrl)) {
    throw new UsageError(`--public-url must be an http or https URL, not "${publicUrl}".`);
  }
  const poolText = values['database-pool'] ?? fromEnv(env, 'TIMEBOX_DATABASE_POOL');
  if (poolText !== undefined && !/^[1-9]\d{0,2}$/.test(poolText)) {
    throw new UsageError(`--database-pool must be a number of connections from 1 to 999, not "${poolText}".`);
  }
  const shutdownText = values['shutdown-timeout'] ?? fromEnv(env, 'TIMEBOX_SHUTDOWN_TIMEOUT');
  const shutdownTimeoutSeconds = shutdownText === undefined ? undefined : parseDuration(shutdownText);
  if (shutdownTimeoutSeconds === null || shutdownTimeoutSeconds === 0) {
    throw new UsageError(
      `--shutdown-timeout must be a duration of at least 1 second such as "10s" or "1m", not "${shutdownText ?? ''}".`,
    );
  }
  return {
    port,
    shutdownTimeoutSeconds,
    databasePoolSize: poolText === undefined ? undefined : Number(poolText),
    databaseTimeouts: readDatabaseTimeouts(env),
    trustProxy: readTrustProxy(values['trust-proxy'] ?? fromEnv(env, 'TIMEBOX_TRUST_PROXY')),
    host: values.host ?? fromEnv(env, 'TIMEBOX_HOST') ?? '127.0.0.1',
    dataDir: resolve(values.data ?? fromEnv(env, 'TIMEBOX_DATA') ?? '.timebox/data'),
    configFile: resolve(config ?? DEFAULT_CONFIG),
    // With no policy named and none in the working folder, a first `npm run server` shows the demo
    // rather than an error; it listens on loopback unless told otherwise, and says so loudly.
    demo: demo || (config === undefined && !existsSync(DEFAULT_CONFIG)),
    demoImplied: !demo && config === undefined && !existsSync(DEFAULT_CONFIG),
    publicUrl: publicUrl?.replace(/\/+$/, ''),
    databaseUrl,
  };
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === 'hash-password') {
    const password = await readStdin();
    const problem = passwordProblem(password);
    if (problem !== null) throw new UsageError(problem);
    process.stdout.write(`${await hashPassword(password)}\n`);
    return;
  }
  const settings = readSettings(argv, process.env);
  const logger = pino(
    { level: fromEnv(process.env, 'TIMEBOX_LOG_LEVEL') ?? 'info' },
    processLogDestination(),
  );
  if (settings.demoImplied) {
    logger.warn(
      { looked: settings.configFile },
      'no policy file (--config, TIMEBOX_CONFIG or ./timebox.yaml): running the demo organisation, whose users share one known password; do not expose it',
    );
  }
  const policy = settings.demo
    ? await demoPolicy(demoPasswordOf(process.env), process.env)
    : loadPolicyFile(settings.configFile, process.env);
  const service = await createService({
    policy,
    databaseUrl: settings.databaseUrl,
    dataDir: settings.databaseUrl ? null : settings.dataDir,
    logger: { level: logger.level },
    ...(settings.publicUrl === undefined ? {} : { publicUrl: settings.publicUrl }),
    ...(settings.trustProxy === undefined ? {} : { trustProxy: settings.trustProxy }),
    ...(settings.databasePoolSize === undefined ? {} : { databasePoolSize: settings.databasePoolSize }),
    databaseTimeouts: settings.databaseTimeouts,
  });
  const url = await service.listen(settings.port, settings.host);
  logger.info(
    { url, db: service.db.kind, policy: settings.demo ? 'demo' : settings.configFile },
    `Timebox is listening on ${url}${settings.demo ? ' with the demo organisation (alice, dave, bob, carol, admin)' : ''}`,
  );

  const shutdownTimeoutMs = (settings.shutdownTimeoutSeconds ?? policy.service.shutdownTimeoutSeconds) * 1000;
  const stop = (signal: NodeJS.Signals): void => {
    // From now on a signal gets its default action: the kernel ends the process at once, even while the
    // main thread is stuck (a handler of ours would wait for it).
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    const deadline = new StopDeadline(shutdownTimeoutMs);
    logger.info(
      { signal, deadlineSeconds: shutdownTimeoutMs / 1000 },
      'draining: finishing requests in flight, then stopping; a second SIGTERM or SIGINT ends the process at once',
    );
    service.close(deadline.progress).then(
      () => {
        logger.info('stopped cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'failed to stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  if (error instanceof PolicyError || error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(
    `Timebox could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
