import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { errors, Pool } from 'undici';
import { hostileCase, routesOf, type HostileCase, type Pools } from '../lib/hostile-inputs.js';
import { BenchClient } from '../lib/http.js';
import { BENCH_APPROVER, BENCH_PASSWORD } from '../lib/policy.js';
import { startService, type RunningService } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { round } from '../lib/stats.js';
import type { StateDigest } from '../lib/state-digest.js';

/** Where every 5xx and every refusal that changed state is written in full, to replay it. */
const FINDINGS_FILE = new URL('../results/hostile-findings.json', import.meta.url);

interface Finding {
  readonly kind: '5xx' | 'crash' | 'state changed on refusal' | 'state changed by a read' | 'no answer';
  readonly input: HostileCase;
  readonly status: number | null;
  readonly detail: string;
}

type Outcome =
  | { readonly status: number; readonly text: string }
  | { readonly error: string }
  | { readonly notSent: string };

async function send(pool: Pool, hostile: HostileCase): Promise<Outcome> {
  try {
    const response = await pool.request({
      method: hostile.method,
      path: hostile.path,
      headers: hostile.headers,
      ...(hostile.body === undefined ? {} : { body: hostile.body }),
    });
    if (response.headers['content-type']?.toString().startsWith('text/event-stream')) {
      // A stream that opened: it would run forever; that it opened is the answer.
      response.body.destroy();
      return { status: response.statusCode, text: '' };
    }
    return { status: response.statusCode, text: await response.body.text() };
  } catch (error) {
    // The client refused to send it (a header value HTTP cannot carry): nothing reached the service.
    if (error instanceof errors.InvalidArgumentError) return { notSent: error.message };
    return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** Sessions for the pools, one per person, and what the policy and the seeded data name. */
async function seed(client: BenchClient): Promise<{ pools: Pools; owners: Map<string, string> }> {
  const people = ['user01', 'user02', BENCH_APPROVER, 'admin'];
  const tokens = await Promise.all(people.map((person) => client.login(person, BENCH_PASSWORD)));
  const [user01, user02] = tokens;
  if (!user01 || !user02) throw new Error('no sessions');
  const revokedToken = await client.login('user03', BENCH_PASSWORD);
  await client.call('POST', '/v1/auth/logout', revokedToken);
  const ids: string[] = [];
  const create = async (token: string, body: object): Promise<{ id: string; grantId: string | null }> => {
    const created = await client.call('POST', '/v1/requests', token, body);
    if (created.status !== 201) throw new Error(`seeding: create answered ${created.status}`);
    const view = created.json as { id: string; grantId: string | null };
    ids.push(view.id, ...(view.grantId ? [view.grantId] : []));
    return view;
  };
  await create(user01, { resourceId: 'sandbox', role: 'operator', durationSeconds: 86_400 });
  await create(user01, { resourceId: 'prod', role: 'read', durationSeconds: 3600 });
  await create(user02, {
    resourceId: 'prod',
    role: 'write',
    durationSeconds: 600,
    reason: 'fix',
    ticket: 'OPS-1',
  });
  const ended = await create(user02, { resourceId: 'sandbox', role: 'operator', durationSeconds: 3600 });
  await client.call('POST', `/v1/grants/${ended.grantId ?? ''}/revoke`, user02, {});
  await create(user01, { resourceId: 'prod', role: 'console', durationSeconds: 3600 });
  await create(user02, { resourceId: 'prod', role: 'console', durationSeconds: 3600 });
  await create(await client.login('user04', BENCH_PASSWORD), {
    resourceId: 'prod',
    role: 'console',
    durationSeconds: 3600,
  }); // queued: both seats are taken
  ids.push('req_00000000000000000000', 'grt_00000000000000000000', 'req_zzzzzzzzzzzzzzzzzzzz');
  return {
    pools: {
      ids,
      tokens,
      revokedToken,
      words: [
        ...['sandbox', 'operator', 'prod', 'read', 'write', 'console', 'OPS-1', 'OPS-', 'OPS-1 '],
        ...['user01', 'user02', BENCH_APPROVER, 'admin', BENCH_PASSWORD, 'mine', 'all', 'approvable'],
        ...['active', 'ended', 'pending', 'queued', 'jsonl', 'csv', '000000', '123456'],
      ],
    },
    owners: new Map(tokens.map((token, index) => [token, people[index] ?? ''])),
  };
}

/** The tables whose rows differ between two digests. */
function changedTables(before: StateDigest, after: StateDigest): string[] {
  const beforeHashes = before.contentHash.split(':');
  const afterHashes = after.contentHash.split(':');
  return Object.keys(before.rows).filter((_table, index) => beforeHashes[index] !== afterHashes[index]);
}

/** GET routes that write when they succeed: handing out a credential is audited (and may make a signing key). */
const WRITING_READS: ReadonlySet<string> = new Set(['GET /v1/grants/{id}/credential']);

/** Reads are checked in runs of this many: a read must change nothing, so a batch either changed state or not. */
const READ_BATCH = 25;

/** Sends the cases and watches what they leave behind. */
class HostileRun {
  readonly findings: Finding[] = [];
  readonly statuses = new Map<string, number>();
  refusalsChecked = 0;
  stateChangingSuccesses = 0;
  backgroundChanges = 0;
  skipped = 0;
  crashed = false;
  private before: StateDigest | null = null;

  constructor(
    private readonly service: RunningService,
    private readonly client: BenchClient,
    /** On the service's digest listener. */
    private readonly digests: BenchClient,
    private readonly pool: Pool,
    private readonly harness: string,
    private readonly owners: ReadonlyMap<string, string>,
  ) {}

  async digest(): Promise<StateDigest> {
    return (await this.digests.call('GET', '/digest')).json as StateDigest;
  }

  /** Reads, READ_BATCH at a time between digests. */
  async reads(cases: readonly HostileCase[]): Promise<void> {
    for (let first = 0; first < cases.length && !this.crashed; first += READ_BATCH) {
      const batch = cases.slice(first, first + READ_BATCH);
      const sent: { hostile: HostileCase; status: number }[] = [];
      for (const hostile of batch) {
        const status = await this.send(hostile);
        if (this.hasCrashed()) break;
        if (status !== null) sent.push({ hostile, status });
      }
      await this.settle(sent, true);
    }
  }

  /** Everything else, one at a time, a digest after each. */
  async writes(cases: readonly HostileCase[]): Promise<void> {
    for (const planned of cases) {
      if (this.crashed) return;
      const hostile = await this.withOwnSession(planned);
      if (!hostile) continue;
      const status = await this.send(hostile);
      if (status !== null) await this.settle([{ hostile, status }], false);
    }
  }

  /** The status, or null when there was none (recorded as a crash or a request that got no answer). */
  private async send(hostile: HostileCase): Promise<number | null> {
    this.before ??= await this.digest();
    const outcome = await send(this.pool, hostile);
    if ('notSent' in outcome) {
      this.count('not sent');
      return null;
    }
    if ('error' in outcome) {
      this.crashed = !this.service.alive();
      this.findings.push({
        kind: this.crashed ? 'crash' : 'no answer',
        input: hostile,
        status: null,
        detail: this.crashed ? this.service.output().slice(-2000) : outcome.error,
      });
      this.count('no answer');
      return null;
    }
    this.count(`${Math.floor(outcome.status / 100)}xx`);
    if (outcome.status >= 500)
      this.findings.push({
        kind: '5xx',
        input: hostile,
        status: outcome.status,
        detail: outcome.text.slice(0, 500),
      });
    if (outcome.status >= 400) this.refusalsChecked += 1;
    return outcome.status;
  }

  /**
   * Compares the state with the digest before `sent`. A write that succeeded may change it; nothing else
   * may, except the service's own work (a grant a case made, expiring), told apart by its audit entries.
   */
  private async settle(
    sent: readonly { hostile: HostileCase; status: number }[],
    reads: boolean,
  ): Promise<void> {
    if (sent.length === 0 || !this.before) return;
    const before = this.before;
    const after = await this.digest();
    this.before = after;
    if (after.contentHash === before.contentHash) return;
    const [only] = sent;
    if (!reads && only && only.status < 400) {
      this.stateChangingSuccesses += 1;
      return;
    }
    const entries = (
      await this.client.call('GET', `/v1/audit?after=${before.auditSeq}&limit=1000`, this.harness)
    ).json as { items: { actorId: string | null; action: string }[] };
    const own = entries.items.filter((entry) => entry.actorId !== null);
    if (entries.items.length > 0 && own.length === 0) {
      this.backgroundChanges += 1;
      return;
    }
    const detail = `tables changed: ${changedTables(before, after).join(', ')}; audit: ${own.map((entry) => entry.action).join(', ') || 'nothing'}`;
    for (const { hostile, status } of sent)
      this.findings.push({
        kind: reads ? 'state changed by a read' : 'state changed on refusal',
        input: hostile,
        status,
        detail: reads ? `one of ${sent.length} reads; ${detail}` : detail,
      });
  }

  /** A logout with a pooled session would sign it out for every later case: it gets a session of its own. */
  private async withOwnSession(hostile: HostileCase): Promise<HostileCase | null> {
    const pooled = /^Bearer (\S+)$/.exec(hostile.headers.authorization ?? '')?.[1];
    const owner = pooled === undefined ? undefined : this.owners.get(pooled);
    if (!hostile.path.startsWith('/v1/auth/logout') || owner === undefined) return hostile;
    try {
      const own = await this.client.login(owner, BENCH_PASSWORD);
      this.before = await this.digest();
      return { ...hostile, headers: { ...hostile.headers, authorization: `Bearer ${own}` } };
    } catch {
      this.skipped += 1; // sign-ins are rate-limited, and hostile cases spend the allowance
      return null;
    }
  }

  /** Read after a send, which sets it (TypeScript cannot see that through the call). */
  private hasCrashed(): boolean {
    return this.crashed;
  }

  private count(status: string): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
  }
}

async function run(service: RunningService, cases: number, seedValue: number) {
  if (!service.digestUrl) throw new Error('the service has no digest listener');
  const client = new BenchClient(service.url, 2);
  const digests = new BenchClient(new URL(service.digestUrl).origin, 1);
  const pool = new Pool(service.url, {
    connections: 1,
    pipelining: 1,
    bodyTimeout: 10_000,
    headersTimeout: 10_000,
  });
  try {
    const { pools, owners } = await seed(client);
    // The harness's own administrator session, never handed to a case (a case may sign its token out).
    const harness = await client.login('admin', BENCH_PASSWORD);
    const routes = routesOf((await client.call('GET', '/openapi.json')).json);
    const generated = fc.sample(hostileCase(routes, pools), { numRuns: cases, seed: seedValue });
    const hostile = new HostileRun(service, client, digests, pool, harness, owners);
    const started = performance.now();
    const isRead = (planned: HostileCase) => planned.method === 'GET' && !WRITING_READS.has(planned.route);
    await hostile.reads(generated.filter(isRead));
    await hostile.writes(generated.filter((planned) => !isRead(planned)));
    return {
      routes: routes.length,
      hostile,
      perSecond: (generated.length * 1000) / (performance.now() - started),
    };
  } finally {
    await pool.close();
    await Promise.all([client.close(), digests.close()]);
  }
}

function describe(finding: Finding): string {
  const { input } = finding;
  const body = input.body === undefined ? '' : ` body ${JSON.stringify(input.body.slice(0, 120))}`;
  return `${finding.status ?? finding.kind} ${input.method} ${input.path.slice(0, 160)} headers ${JSON.stringify(input.headers).slice(0, 160)}${body}`;
}

export async function hostileScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  // BENCH_HOSTILE_CASES with BENCH_SEED replays part of a run.
  const cases = Number(process.env.BENCH_HOSTILE_CASES ?? (full ? 50_000 : 10_000));
  const seedValue = Number(process.env.BENCH_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-hostile-'));
  const service = await startService([policyFile, dataDir], { digest: true });
  try {
    const { routes, hostile: outcome, perSecond } = await run(service, cases, seedValue);
    mkdirSync(new URL('.', FINDINGS_FILE), { recursive: true });
    writeFileSync(
      FINDINGS_FILE,
      `${JSON.stringify({ seed: seedValue, findings: outcome.findings }, null, 2)}\n`,
    );
    const of = (kind: Finding['kind']) => outcome.findings.filter((finding) => finding.kind === kind);
    const first = (kind: Finding['kind']) =>
      of(kind).length === 0 ? '' : `; first: ${of(kind).slice(0, 2).map(describe).join(' | ')}`;
    const name = `hostile input: ${cases} cases over ${routes} routes (PGlite)`;
    const replay = `BENCH_SEED=${seedValue} replays this run; every finding is in bench/results/hostile-findings.json`;
    return [
      result(name, '5xx answers', 'answers', of('5xx').length, 0, 'exact', `${replay}${first('5xx')}`),
      result(
        name,
        'crashes',
        'crashes',
        of('crash').length,
        0,
        'exact',
        `${of('no answer').length} requests got no answer from a live service${first('no answer')}`,
      ),
      result(
        name,
        'refusals or reads that changed state',
        'requests',
        of('state changed on refusal').length + of('state changed by a read').length,
        0,
        'exact',
        `state digest (rows and content of every table) after each write and every ${READ_BATCH} reads, ${outcome.refusalsChecked} refusals among them; answers ${[...outcome.statuses].map(([status, count]) => `${status} ${count}`).join(', ')}; ${outcome.stateChangingSuccesses} successes changed state, ${outcome.backgroundChanges} changes were the service's own expiries; ${outcome.skipped} logouts skipped; ${round(perSecond)} cases/s${first('state changed on refusal')}${first('state changed by a read')}`,
      ),
    ];
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
