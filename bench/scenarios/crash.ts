import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { churn, type Made, type Violation } from '../lib/churn.js';
import { BenchClient, loginAll } from '../lib/http.js';
import { BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { freshDatabase } from '../lib/postgres.js';
import { startService, type RunningService } from '../lib/processes.js';
import { notRun, result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const WORKERS = 12;
const CATCH_UP_MS = 2000;

interface Restart {
  readonly killedAt: number;
  readonly spawnedAt: number;
  /** When the new process's own code began (Node and the modules loaded). */
  readonly startedAt: number;
  readonly listeningAt: number;
  /** Grants that had fallen due by the restart and were still active CATCH_UP_MS after it. */
  readonly stillOverdue: number;
  /** null when the chain verified; the service's reason when it did not. */
  readonly auditProblem: string | null;
}

interface ListedGrant {
  readonly id: string;
  readonly expiresAt: string;
  readonly endedAt: string | null;
  readonly endReason: string | null;
}

async function everything<T>(admin: BenchClient, token: string, path: string): Promise<T[]> {
  const items: T[] = [];
  for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
    const page = await admin.call('GET', `${path}&limit=200${cursor ? `&cursor=${cursor}` : ''}`, token);
    if (page.status !== 200) throw new Error(`${path} answered ${page.status}`);
    const body = page.json as { items: T[]; next: string | null };
    items.push(...body.items);
    cursor = body.next;
  }
  return items;
}

/** null when the audit chain verifies; what the service said when it does not. */
async function auditProblem(admin: BenchClient, token: string): Promise<string | null> {
  const verify = await admin.call('GET', '/v1/audit/verify', token);
  const verdict = verify.json as { ok?: boolean; reason?: string } | null;
  if (verify.status === 200 && verdict?.ok === true) return null;
  return `${verify.status}: ${verdict?.reason ?? JSON.stringify(verdict)}`;
}

/**
 * Churn from WORKERS people while the service is killed with SIGKILL `kills` times at random moments, and
 * restarted on the same data and port after a random pause (so grants fall due while it is down).
 */
async function crashAndRestart(
  label: string,
  args: string[],
  env: Record<string, string>,
  kills: number,
): Promise<ScenarioResult[]> {
  let service: RunningService = await startService(args, { env });
  const port = Number(new URL(service.url).port);
  const client = new BenchClient(service.url, WORKERS + 4);
  const record = { made: [] as Made[], violations: [] as Violation[] };
  const restarts: Restart[] = [];
  let running = true;
  let workers: Promise<unknown> = Promise.resolve();
  try {
    const tokens = await loginAll([client], BENCH_USERS.slice(0, WORKERS), BENCH_PASSWORD);
    const adminToken = await client.login('admin', BENCH_PASSWORD);
    workers = Promise.all(tokens.map((token) => churn(client, token, () => running, record)));
    for (let kill = 0; kill < kills; kill += 1) {
      await sleep(1500 + Math.random() * 2500);
      const killedAt = Date.now();
      await service.kill();
      await sleep(Math.random() * 1500);
      const spawnedAt = Date.now();
      service = await startService(args, { env, port });
      const listeningAt = Date.now();
      await sleep(Math.max(0, spawnedAt + CATCH_UP_MS - Date.now()));
      const active = await everything<ListedGrant>(client, adminToken, '/v1/grants?scope=all&status=active');
      restarts.push({
        killedAt,
        spawnedAt,
        startedAt: service.codeStartedAt,
        listeningAt,
        stillOverdue: active.filter((grant) => Date.parse(grant.expiresAt) <= spawnedAt).length,
        auditProblem: await auditProblem(client, adminToken),
      });
    }
    // The clients stop while the service is up, so every request they started gets its answer.
    await sleep(2000);
    running = false;
    await workers;

    const ended = new Map(
      (await everything<ListedGrant>(client, adminToken, '/v1/grants?scope=all&status=ended')).map(
        (grant) => [grant.id, grant],
      ),
    );
    // Grants that fell due while the service was down: when each one ended, after the restart.
    const endedAfterRestart = restarts.flatMap((restart) =>
      record.made
        .filter((made) => made.expiresAt >= restart.killedAt && made.expiresAt < restart.listeningAt)
        .map((made) => ended.get(made.grantId))
        .filter((grant): grant is ListedGrant => grant?.endReason === 'expired' && grant.endedAt !== null)
        .map((grant) => ({
          restart,
          expiresAt: Date.parse(grant.expiresAt),
          endedAt: Date.parse(grant.endedAt ?? ''),
        })),
    );
    // A grant that falls due while the new process starts cannot end before it is due: it counts from its
    // expiry, the others from the new process's first line of code.
    const dueBeforeStart = endedAfterRestart.filter(
      ({ restart, expiresAt }) => expiresAt < restart.startedAt,
    );
    const dueDuringStart = endedAfterRestart.filter(
      ({ restart, expiresAt }) => expiresAt >= restart.startedAt,
    );
    const fromStart = dueBeforeStart.map(({ restart, endedAt }) => endedAt - restart.startedAt);
    const fromExpiry = dueDuringStart.map(({ expiresAt, endedAt }) => endedAt - expiresAt);
    const fromSpawn = dueBeforeStart.map(({ restart, endedAt }) => endedAt - restart.spawnedAt);
    const boot = restarts.map((restart) => restart.startedAt - restart.spawnedAt);
    const onService = new Set(
      (await everything<{ id: string }>(client, adminToken, '/v1/requests?scope=all')).map(
        (request) => request.id,
      ),
    );
    const made = new Set(record.made.map((entry) => entry.requestId));
    const lost = [...made].filter((id) => !onService.has(id)).length;
    const duplicated = [...onService].filter((id) => !made.has(id)).length;
    let replayMismatches = 0;
    for (const entry of record.made) {
      const replayed = await client.call('POST', '/v1/requests', entry.token, entry.body, {
        'idempotency-key': entry.key,
      });
      if (replayed.status !== 201 || (replayed.json as { id?: string } | null)?.id !== entry.requestId)
        replayMismatches += 1;
    }
    const problems = restarts.map((restart) => restart.auditProblem);
    // With the clients stopped: a failure only under churn and not here is the check racing the writes.
    const finalProblem = await auditProblem(client, adminToken);
    const auditFailures = [...problems, finalProblem].filter((problem) => problem !== null);
    const name = `crash and restart on ${label}: ${kills} × kill -9 under churn`;
    const retried = record.made.filter((entry) => entry.attempts > 1).length;
    return [
      result(
        name,
        'overdue grants ended after restart, worst',
        'ms',
        round(Math.max(0, ...fromStart, ...fromExpiry)),
        CATCH_UP_MS,
        'lower',
        `${fromStart.length} grants fell due while the service was down: the last ended ${round(Math.max(0, ...fromStart))} ms after the new service's first line of code; ${fromExpiry.length} more fell due while it started: the last ended ${round(Math.max(0, ...fromExpiry))} ms after its expiry; counted from spawning the process (Node and tsx start, modules load: p50 ${round(percentile(boot, 50))} ms) the worst is ${round(Math.max(0, ...fromSpawn))} ms; ${restarts.reduce((sum, restart) => sum + restart.stillOverdue, 0)} overdue still listed active at the first look after a restart; spawn to listening p50 ${round(
          percentile(
            restarts.map((restart) => restart.listeningAt - restart.spawnedAt),
            50,
          ),
        )} ms`,
      ),
      result(
        name,
        'served active or credential past expiry + 1 s',
        'answers',
        record.violations.length,
        0,
        'exact',
        record.violations.length === 0
          ? `over ${record.made.length} grants`
          : record.violations
              .slice(0, 3)
              .map(
                (violation) =>
                  `${violation.grantId} ${violation.what} ${violation.pastExpiryMs} ms past expiry`,
              )
              .join('; '),
      ),
      result(
        name,
        'requests lost, duplicated or answered differently on retry',
        'requests',
        lost + duplicated + replayMismatches,
        0,
        'exact',
        `${record.made.length} requests, ${retried} needed a retry; ${lost} lost, ${duplicated} duplicated, ${replayMismatches} replays answered differently`,
      ),
      result(
        name,
        'audit chain verifications failed',
        'checks',
        auditFailures.length,
        0,
        'exact',
        `GET /v1/audit/verify after each restart (under churn) and once the clients stopped: ${[...problems, finalProblem].map((problem) => (problem === null ? 'ok' : problem)).join('; ')}`,
      ),
    ];
  } finally {
    running = false;
    await workers.catch(() => undefined);
    await client.close();
    await service.stop();
  }
}

export async function crashScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const kills = full ? 20 : 5;
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-crash-'));
  const results: ScenarioResult[] = [];
  try {
    results.push(...(await crashAndRestart('PGlite (data folder)', [policyFile, dataDir], {}, kills)));
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  const database = await freshDatabase();
  if (database.url === null)
    return [
      ...results,
      notRun(
        'crash and restart on PostgreSQL',
        'overdue grants ended after restart, worst',
        'ms',
        database.reason,
      ),
    ];
  try {
    results.push(
      ...(await crashAndRestart('PostgreSQL', [policyFile, '-'], { DATABASE_URL: database.url }, kills)),
    );
  } finally {
    await database.drop();
  }
  return results;
}
