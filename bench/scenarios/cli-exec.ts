import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchClient } from '../lib/http.js';
import { BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { startService } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const NAME = 'CLI exec';
const ROOT = new URL('../../', import.meta.url).pathname;
/** The child prints the wall clock (ms) as it starts: the end of what is measured. */
const CHILD = ['sh', '-c', 'date +%s%3N'];

/** Seconds the service spent answering, summed over every route, from its own histogram. */
async function serviceSeconds(url: string): Promise<number> {
  const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('timebox_http_request_duration_seconds_sum'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1) ?? 0), 0);
}

/** One `timebox exec`: from spawning it to its command running, in ms. */
function execOnce(binary: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(
      process.execPath,
      [binary, 'exec', 'sandbox/operator', '--for', '1h', '--', ...CHILD],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const childStarted = Number(stdout.trim());
      if (code !== 0 || !Number.isFinite(childStarted))
        reject(new Error(`timebox exec failed (${String(code)}): ${stderr}`));
      else resolve(childStarted - started);
    });
  });
}

/**
 * `timebox exec` of an auto-approved role, already signed in (TIMEBOX_TOKEN, so the figure does not
 * depend on this machine's keychain): each run asks for a new grant (the previous one relinquished),
 * fetches its credential and starts the command. Beside it, the service's own time for those calls.
 */
export async function cliExecScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const folder = `out/cli-bench-${process.pid}`;
  const built = spawnSync(process.execPath, ['scripts/build-cli.mjs', folder], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`the CLI did not build: ${built.stderr}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-cli-'));
  const service = await startService([policyFile, dataDir]);
  const client = new BenchClient(service.url, 2);
  try {
    const token = await client.login(BENCH_USERS[0] ?? 'user01', BENCH_PASSWORD);
    const env = { ...process.env, TIMEBOX_SERVER: service.url, TIMEBOX_TOKEN: token };
    const binary = join(ROOT, folder, 'timebox.js');
    const relinquishAll = async (): Promise<void> => {
      const { json } = await client.call('GET', '/v1/grants?status=active', token);
      const items = (json as { items: { id: string }[] }).items;
      for (const grant of items) await client.call('POST', `/v1/grants/${grant.id}/revoke`, token, {});
    };
    await execOnce(binary, env); // warm: the file cache, the service's first calls
    const samples = full ? 40 : 12;
    const times: number[] = [];
    let serviceTime = 0;
    for (let index = 0; index < samples; index += 1) {
      await relinquishAll();
      const before = await serviceSeconds(service.url);
      times.push(await execOnce(binary, env));
      serviceTime += (await serviceSeconds(service.url)) - before;
    }
    const bare: number[] = [];
    for (let index = 0; index < samples; index += 1) {
      const started = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      bare.push(performance.now() - started);
    }
    const p50 = round(percentile(times, 50));
    return [
      result(
        NAME,
        'start to command running p50',
        'ms',
        p50,
        300,
        'lower',
        `${samples} runs, each a new auto-approved grant; the service's own time ${round((serviceTime * 1000) / samples)} ms a run`,
      ),
      result(NAME, 'start to command running p95', 'ms', round(percentile(times, 95)), null, 'lower'),
      result(
        NAME,
        "Node's own start (node -e 0) p50",
        'ms',
        round(percentile(bare, 50)),
        null,
        'lower',
        'how much of the figure this machine costs any Node command',
      ),
    ];
  } finally {
    await client.close();
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(join(ROOT, folder), { recursive: true, force: true });
  }
}
