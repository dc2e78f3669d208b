import {
  createService,
  AuditChainer,
  loadPolicyFile,
  openDatabase,
  NOTIFY_CHANNEL,
} from '../../server/index.js';
import { systemClock } from '../../api/clock.js';
import { BenchClient, closedLoop, requestAndFetch } from './http.js';
import { BENCH_PASSWORD, BENCH_USERS } from './policy.js';
import { outline, replayTape, tapeRecorder, type SqlTape } from './sql-tape.js';

/**
 * The lifecycle's SQL without the service: the baseline of the lifecycle scenario. It records the
 * statements the service sends for one lifecycle of each given worker's user (the service runs in this
 * process, over HTTP, one lifecycle at a time), closes the service, and once sent SIGUSR2, replays them
 * on the same database from one task per worker, through the service's own database layer (prepared
 * statements, the same pool) and with the audit chainer running, but no HTTP, Fastify, JWT or domain code.
 *
 * Arguments: <policy file> <PGlite data folder | "-"> <workers, e.g. 0,2,4> <warm-up ms> <duration ms>;
 * DATABASE_URL picks PostgreSQL. Prints `BENCH_RECORDED <n>`, then `BENCH_REPLAYED <json>`.
 */
const [policyFile, dataDirArgument, workerList, warmupArgument, durationArgument] = process.argv.slice(2);
if (!policyFile || !dataDirArgument || !workerList || !warmupArgument || !durationArgument) {
  throw new Error(
    'usage: sql-replay-entry.ts <policy file> <data folder | -> <workers> <warm-up ms> <duration ms>',
  );
}
const databaseUrl = process.env.DATABASE_URL?.trim() ? process.env.DATABASE_URL : null;
const dataDir = databaseUrl ? null : dataDirArgument;
const workers = workerList.split(',').map(Number);
const [warmupMs, durationMs] = [Number(warmupArgument), Number(durationArgument)];
if (!Number.isInteger(warmupMs) || warmupMs < 0 || !Number.isInteger(durationMs) || durationMs <= 0) {
  throw new Error(
    `the warm-up and the duration are whole milliseconds: ${warmupArgument}, ${durationArgument}`,
  );
}
const logger = {
  warn: (details: object, message: string) => {
    console.warn(message, details);
  },
};

const service = await createService({
  policy: loadPolicyFile(policyFile, process.env),
  databaseUrl,
  dataDir,
  logger: { level: 'warn' },
});
const recorder = tapeRecorder(service.db);
const client = new BenchClient(await service.listen(0, '127.0.0.1'), 1);
const tapes: SqlTape[] = [];
for (const worker of workers) {
  const user = BENCH_USERS[worker];
  if (!user) throw new Error(`no bench user for worker ${worker}`);
  const token = await client.login(user, BENCH_PASSWORD);
  // A user's second lifecycle is recorded: the first ones also write what the service writes a few times
  // an hour (the signing key's latest token expiry), which the bench's closed loop hardly ever does.
  await requestAndFetch(client, token);
  tapes.push(
    await recorder.record(async () => {
      await requestAndFetch(client, token);
    }),
  );
}
await client.close();
await service.close();
const shapes = new Set(tapes.map(outline));
if (shapes.size !== 1) throw new Error(`the recorded lifecycles differ:\n${[...shapes].join('\n---\n')}`);

const db = await openDatabase({ databaseUrl, dataDir, logger });
const chainer = new AuditChainer(db, systemClock, logger);
// The service listens for its own NOTIFYs, so the database delivers each one back; so does the replay
// (what the service does with them is its own code, left out).
const unlisten = await db.listen(
  NOTIFY_CHANNEL,
  () => undefined,
  () => undefined,
);
// A signal listener does not keep Node running; the deadline's timer does, until the signal comes. The
// listener is in place before the line that tells the bench it may send the signal.
const started = new Promise<void>((resolve, reject) => {
  const deadline = setTimeout(() => {
    reject(new Error('no SIGUSR2 within 10 minutes'));
  }, 600_000);
  process.once('SIGUSR2', () => {
    clearTimeout(deadline);
    resolve();
  });
});
process.stdout.write(`BENCH_RECORDED ${tapes.length}\n`);
await started;

let firstError: string | null = null;
const run = await closedLoop({
  concurrency: tapes.length,
  warmupMs,
  durationMs,
  iteration: async (index) => {
    const tape = tapes[index];
    if (!tape) throw new Error(`no tape for task ${index}`);
    try {
      await replayTape(db, tape);
    } catch (error) {
      firstError ??= error instanceof Error ? error.message : String(error);
      throw error;
    }
    chainer.nudge(); // as the service's commit of an audit entry does
  },
});
await chainer.close();
await unlisten();
await db.close();
process.stdout.write(`BENCH_REPLAYED ${JSON.stringify({ ...run, firstError })}\n`);
