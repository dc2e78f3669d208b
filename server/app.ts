import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { DestinationStream, LoggerOptions } from 'pino';
import { Sessions } from './auth/sessions.js';
import { SignIn } from './auth/sign-in.js';
import { PASSWORD_COST, type ScryptCost } from './auth/passwords.js';
import { AccessTasks } from './access/access-tasks.js';
import { PostgresAccess } from './access/postgres-access.js';
import { AuditChainer } from './audit/chainer.js';
import { Deliveries } from './channels/deliveries.js';
import { createChannels } from './channels/index.js';
import { EndedGrants, longestCredentialLifetimeMs } from './credentials/ended-grants.js';
import { Introspection } from './credentials/introspection.js';
import { IssuerRegistry, type IssuerFactory } from './credentials/issuer.js';
import { SigningKeys } from './credentials/signing-keys.js';
import { TokenIssuer } from './credentials/token-issuer.js';
import { openDatabase, type Database } from './db/database.js';
import type { DatabaseTimeouts } from './db/pg-client.js';
import { migrate } from './db/migrations.js';
import { roleOf, type Domain } from './domain/context.js';
import { dueTasks, nextDeadline } from './domain/due.js';
import { Grants } from './domain/grants.js';
import { Requests } from './domain/requests.js';
import { UnitOfWork } from './domain/work.js';
import { EventHub } from './events/hub.js';
import { decodeNotice, NOTIFY_CHANNEL } from './events/types.js';
import type { RouteContext } from './http/context.js';
import { installErrorHandling } from './http/error-handler.js';
import { registerOpenApi } from './http/openapi.js';
import { loginRoute, sessionRoutes } from './http/routes/auth.js';
import { signInMethodRoutes } from './http/routes/oidc.js';
import { Directory } from './identity/directory.js';
import { OidcSignIn } from './identity/oidc-sign-in.js';
import { Offboarding } from './identity/offboarding.js';
import { ScimUsers } from './identity/scim/users.js';
import { scimRoutes } from './http/routes/scim.js';
import { auditRoutes } from './http/routes/audit.js';
import { approvalPageRoutes } from './http/routes/approval-page.js';
import { catalogRoutes } from './http/routes/catalog.js';
import { deliveryRoutes } from './http/routes/deliveries.js';
import { eventRoutes } from './http/routes/events.js';
import { grantRoutes } from './http/routes/grants.js';
import { insightRoutes } from './http/routes/insights.js';
import { introspectionRoutes } from './http/routes/introspection.js';
import { reportRoutes } from './http/routes/reports.js';
import { requestRoutes } from './http/routes/requests.js';
import { seatPoolRoutes } from './http/routes/seat-pools.js';
import { serviceRoutes } from './http/routes/service.js';
import { systemClock, type Clock } from '../api/clock.js';
import { SERVICE_TIME_HEADER } from '../api/service-time.js';
import { LoginSampler, type LoginSamplerTiming } from './insights/login-sampler.js';
import { Housekeeping } from './ops/housekeeping.js';
import { processLogDestination } from './ops/log-destination.js';
import { Metrics } from './ops/metrics.js';
import type { StopProgress } from './ops/stop-deadline.js';
import type { Policy } from './policy/types.js';
import { Scheduler } from './scheduler/scheduler.js';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface ServiceOptions {
  readonly policy: Policy;
  /** postgres://… for PostgreSQL; null for PGlite. */
  readonly databaseUrl: string | null;
  /** PGlite's data folder; null keeps PGlite in memory (tests). */
  readonly dataDir: string | null;
  readonly clock?: Clock;
  /** The URL clients use; the tokens' `iss`. Defaults to the policy's, then to the listening address. */
  readonly publicUrl?: string;
  readonly heartbeatMs?: number;
  /** Pino options, or a stream to log to (tests capture logs this way); false for silence. */
  readonly logger?: LoggerOptions | { stream: DestinationStream; level?: string } | false;
  /** Proxies whose X-Forwarded-For names the client: their addresses and CIDR ranges. */
  readonly trustProxy?: readonly string[];
  readonly databasePoolSize?: number;
  /** PostgreSQL's bounded waits (connect, query, idle in transaction, keepalive); defaults where not given. */
  readonly databaseTimeouts?: Partial<DatabaseTimeouts>;
  /**
   * Credential issuers by resource kind, beside the built-in ones (`postgres`; every other kind gets
   * the signed token). A plugin that creates access outside the service implements `access` too.
   */
  readonly issuers?: ReadonlyMap<string, IssuerFactory>;
  /**
   * The process's own series in /metrics (memory, heap, CPU, event-loop lag, GC; default true). Off for a
   * service nobody scrapes: their event-loop monitor wakes the process 100 times a second.
   */
  readonly processMetrics?: boolean;
  /**
   * The scrypt cost of the password hashes the service writes, and below which a hash is upgraded at
   * sign-in: OWASP's N = 2^17 unless a test suite lowers it to keep its many sign-ins fast.
   */
  readonly passwordCost?: ScryptCost;
  /** How often the sessions of active grants' database logins are sampled for insights, and how long a look may take. */
  readonly loginSampling?: LoginSamplerTiming;
}

export interface TimeboxService {
  readonly app: FastifyInstance;
  readonly db: Database;
  readonly scheduler: Scheduler;
  readonly hub: EventHub;
  readonly clock: Clock;
  /** The queue of operations on access outside the service. */
  readonly access: AccessTasks;
  /** Sends what the outbox holds to the channels outside the app (webhooks). */
  readonly deliveries: Deliveries;
  /** Chains recorded audit entries onto the log; `flush` before reading the log's tables directly. */
  readonly auditChainer: AuditChainer;
  /** Samples whether active grants' database logins are in use (insights). */
  readonly loginSampler: LoginSampler;
  /** Listens and returns the base URL. */
  listen(port: number, host: string): Promise<string>;
  /**
   * Drains: stops the schedule, ends event streams, finishes requests in flight, closes the database.
   * `progress` hears each part start and finish (the stop deadline names the parts still open).
   */
  close(progress?: StopProgress): Promise<void>;
}

// Whatever the caller logs, these never reach the log.
const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.password',
  '*.token',
  '*.otp',
  '*.secret',
  '*.totpSecret',
  '*.passwordHash',
];

const BODY_LIMIT_BYTES = 64 * 1024;

export async function createService(options: ServiceOptions): Promise<TimeboxService> {
  const clock = options.clock ?? systemClock;
  const app = Fastify({
    // Standard output unless the caller names a stream: never pino's default, which can hang the exit.
    logger:
      options.logger === false
        ? false
        : { stream: processLogDestination(), ...(options.logger ?? {}), redact: REDACTED_PATHS },
    bodyLimit: BODY_LIMIT_BYTES,
    // An approval link's token (about 150 characters) is a path parameter; ids are far shorter.
    routerOptions: { maxParamLength: 300 },
    trustProxy: options.trustProxy ? [...options.trustProxy] : false,
    // Streams stay open until the server ends them; a close must not wait for them forever.
    forceCloseConnections: 'idle',
    // The router's own refusals (a URL that does not decode) get our error shape too.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply
        .code(400)
        .send({ error: { code: 'bad_request', message: `The URL cannot be read: ${error.message}` } });
    },
  }).withTypeProvider<ZodTypeProvider>();
  // Only JSON bodies: a text/plain body is refused as a media type, not misread as a JSON string.
  app.removeContentTypeParser('text/plain');

  const db = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    logger: app.log,
    ...(options.databasePoolSize === undefined ? {} : { poolSize: options.databasePoolSize }),
    ...(options.databaseTimeouts === undefined ? {} : { timeouts: options.databaseTimeouts }),
  });
  let directory: Directory;
  try {
    await migrate(db, clock.now());
    directory = await Directory.open(options.policy.users, db);
  } catch (error) {
    await db.close();
    throw error;
  }
  // Everyone who may sign in, the file's people and those the identity providers brought in, is who the
  // domain knows: one kind of person to the policy however they sign in.
  const policy: Policy = { ...options.policy, users: directory };

  const metrics = new Metrics(db, db.health, options.processMetrics ?? true);
  let publicUrl = options.publicUrl ?? policy.service.publicUrl;
  // The tokens' `iss`: known once the service listens, when no public URL is given.
  const issuerUrl = (): string => publicUrl ?? 'http://localhost';
  const {
    channels,
    outbox,
    approvalLinks,
    retryForMs,
    close: closeChannels,
  } = createChannels(policy, issuerUrl);
  const uow = new UnitOfWork(db, clock, outbox);
  const deliveries = new Deliveries(db, uow, clock, channels, retryForMs, app.log);
  outbox.onCommitted(() => {
    deliveries.startDue();
  });
  const auditChainer = new AuditChainer(db, clock, app.log);
  uow.onAudited(() => {
    auditChainer.nudge();
  });
  const keys = new SigningKeys(db, clock, policy.service.signingKeyRotationSeconds);
  const issuers = new IssuerRegistry(
    new TokenIssuer(keys, clock, issuerUrl, (grant) => roleOf(policy, grant).credentialTtlSeconds),
    policy.resources.values(),
    new Map<string, IssuerFactory>([
      ['postgres', (resource) => new PostgresAccess(resource, app.log)],
      ...(options.issuers ?? []),
    ]),
  );
  const access = new AccessTasks(uow, issuers, metrics, clock, app.log);
  const domain: Domain = { policy, db, uow, metrics, access, clock };
  const sessions = new Sessions(policy, db, uow, clock, directory);
  const hub = new EventHub(db, clock, options.heartbeatMs ?? 15_000, metrics, sessions);
  const scheduler = new Scheduler(
    clock,
    [...dueTasks(domain), access.dueTask(), deliveries.dueTask()],
    () => nextDeadline(db),
    app.log,
  );
  uow.onDeadline((deadline) => {
    scheduler.consider(deadline);
  });
  const endedGrants = new EndedGrants(db, clock, longestCredentialLifetimeMs(policy), (error) => {
    app.log.warn(
      { err: error },
      'could not read the grants that ended early; introspection asks the database',
    );
  });
  uow.onGrantsEndedEarly((grantIds) => {
    endedGrants.add(grantIds);
  });
  const loginSampler = new LoginSampler(db, clock, issuers.provisioners(), app.log, options.loginSampling);
  const housekeeping = new Housekeeping(db, clock, (error) => {
    app.log.warn({ err: error }, 'housekeeping failed; it runs again in an hour');
  });
  const unlisten = await db.listen(
    NOTIFY_CHANNEL,
    (payload) => {
      const notice = decodeNotice(payload);
      if (!notice) return;
      hub.onNotice(notice);
      if (notice.deadline !== null) scheduler.consider(notice.deadline);
      if (notice.endedGrants.includes('*')) endedGrants.untrust();
      else if (notice.endedGrants.length > 0) endedGrants.add(notice.endedGrants);
    },
    () => {
      hub.catchUpAll();
      void scheduler.start();
      void endedGrants.reconnected();
    },
    () => {
      endedGrants.lost();
    },
  );
  // Listening from here on, every early end is heard; those before are read now.
  await endedGrants.sync();
  // The database is back after an outage: what fell due meanwhile is ended now, not at the next retry, the
  // streams catch up on the events committed meanwhile, and the audit entries recorded are chained.
  const stopRecovering = db.health.onRecovered(() => {
    void scheduler.start();
    hub.catchUpAll();
    auditChainer.nudge();
  });
  // Whatever fell due while the service was down is handled first: before the first client is served, and
  // before the HTTP routes are built, which takes a fifth of a second on a small machine after a crash.
  await scheduler.start();
  // Offboarding: whoever the policy no longer names is signed out, on every instance.
  const offboarded = await sessions.endSessionsOfRemovedUsers();
  if (offboarded > 0)
    app.log.info({ sessions: offboarded }, 'ended the sessions of people no longer in the policy');
  // The policy may have changed since the last start: waiting requests ask whoever it names now, and
  // one nobody can finish any more escalates to the administrators instead of waiting to lapse.
  const requests = new Requests(domain);
  const reconsidered = await requests.reconsiderWaiting();
  if (reconsidered > 0)
    app.log.info({ requests: reconsidered }, 'asked new approvers of requests the policy change concerns');

  const context: RouteContext = {
    policy,
    db,
    clock,
    metrics,
    sessions,
    signIn: new SignIn(policy, db, uow, clock, metrics, sessions, options.passwordCost ?? PASSWORD_COST),
    oidcSignIn: new OidcSignIn(policy, db, uow, clock, sessions, directory, issuerUrl),
    requests,
    grants: new Grants(domain, issuers, clock),
    hub,
    keys,
    introspection: new Introspection(policy, db, keys, clock, metrics, endedGrants),
    auditChainer,
    deliveries,
    version: VERSION,
  };

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  app.addHook('onRequest', async (request) => {
    request.session = null;
  });
  // Set when the service stops: a request in flight then (one waiting out a database timeout) closes its
  // connection with its answer, or the stop would wait on the client's keep-alive.
  let stopping = false;
  app.addHook('onSend', async (_request, reply) => {
    if (stopping) void reply.header('connection', 'close');
    // Clients correct their countdowns by the service's clock: it must be the clock the service uses.
    // Date has one-second resolution; X-Timebox-Time carries the same instant in milliseconds.
    const now = clock.now();
    void reply.header('date', new Date(now).toUTCString()).header(SERVICE_TIME_HEADER, String(now));
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await registerOpenApi(app);
  await app.register(serviceRoutes(context));
  await app.register(loginRoute(context));
  await app.register(signInMethodRoutes(policy, context.oidcSignIn));
  await app.register(
    scimRoutes(
      policy.identity.scimTokenHash,
      new ScimUsers(db, uow, directory, new Offboarding(domain, sessions, directory), issuerUrl),
    ),
  );
  await app.register(introspectionRoutes(context));
  if (approvalLinks) {
    await app.register(approvalPageRoutes(context, approvalLinks, issuerUrl().startsWith('https:')));
  }
  await app.register(async (authenticated) => {
    // onRequest runs before the body is read: an unauthenticated caller never gets its body parsed.
    authenticated.addHook('onRequest', async (request) => {
      request.session = await context.sessions.authenticate(request.headers.authorization, request.ip);
    });
    await authenticated.register(sessionRoutes(context));
    await authenticated.register(catalogRoutes(context));
    await authenticated.register(requestRoutes(context));
    await authenticated.register(grantRoutes(context));
    await authenticated.register(eventRoutes(context));
    await authenticated.register(auditRoutes(context));
    await authenticated.register(seatPoolRoutes(context));
    await authenticated.register(insightRoutes(context));
    await authenticated.register(reportRoutes(context));
    await authenticated.register(deliveryRoutes(context));
  });
  await app.ready();

  // Verifiers fetch the JWKS before the first credential exists: have the signing key from the start.
  await keys.signingKey();
  // Then the audit entries an instance recorded but did not chain before it died, with those of the
  // revocations just made: after the revocations, which must not wait.
  await auditChainer.flush();
  access.startReconciling();
  housekeeping.start();
  loginSampler.start();

  let closing: Promise<void> | null = null;
  return {
    app,
    db,
    scheduler,
    hub,
    clock,
    access,
    deliveries,
    auditChainer,
    loginSampler,
    async listen(port, host) {
      const address = await app.listen({ port, host });
      publicUrl ??= address;
      return address;
    },
    close(progress) {
      closing ??= (async () => {
        stopping = true;
        stopRecovering();
        const step = async (name: string, work: () => unknown): Promise<void> => {
          progress?.(name, 'started');
          await work();
          progress?.(name, 'finished');
        };
        housekeeping.stop();
        await step('scheduler', () => scheduler.stop());
        // Operations in progress finish and record their outcome; what is left stays due for next time.
        await step('access operations', () => access.stop());
        await step('login sampling', () => loginSampler.stop());
        // Sends in progress record their outcome; whatever is left is sent by the next instance to start.
        await step('deliveries', () => deliveries.stop());
        closeChannels();
        await step('credential issuers', () => issuers.close());
        hub.close();
        await step('HTTP server (requests in flight)', () => app.close());
        await step('database notifications', () => unlisten());
        // What the last requests recorded is chained now, not left for the next start.
        await step('audit chain', () =>
          auditChainer.close().catch((error: unknown) => {
            app.log.warn({ err: error }, 'could not chain the last audit entries; the next start will');
          }),
        );
        await step('database', () => db.close());
      })();
      return closing;
    },
  };
}
