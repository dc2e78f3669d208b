import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { onEachDatabase, type DeploymentData } from '../lib/deployments.js';
import { BenchClient, closedLoop, loginAll, requestAndFetch } from '../lib/http.js';
import { BENCH_APPROVER, BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { startService, type RunningProcess } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const SECRET_ENV = 'TIMEBOX_BENCH_WEBHOOK';
const CONCURRENCY = 16;
const WARM_UP = 5;

/** A local receiver: when each event arrived, by type and the id of what it is about. */
class Receiver {
  private readonly waiters = new Map<string, (at: number) => void>();
  private readonly arrived = new Map<string, number>();
  count = 0;

  private constructor(readonly server: Server) {}

  static async start(): Promise<Receiver> {
    let receiver: Receiver | null = null;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        response.writeHead(204).end();
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          type: string;
          data: { id: string; requestId?: string };
        };
        receiver?.arrive(`${body.type}:${body.data.requestId ?? body.data.id}`, performance.now());
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    receiver = new Receiver(server);
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  private arrive(key: string, at: number): void {
    this.count += 1;
    this.arrived.set(key, at);
    this.waiters.get(key)?.(at);
    this.waiters.delete(key);
  }

  /** When `key` arrives (or arrived). */
  when(key: string, timeoutMs: number): Promise<number> {
    const at = this.arrived.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no ${key} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(key, (arrivedAt) => {
        clearTimeout(timer);
        resolve(arrivedAt);
      });
    });
  }

  async drained(expected: number, timeoutMs: number): Promise<number> {
    const started = performance.now();
    while (this.count < expected) {
      if (performance.now() - started > timeoutMs)
        throw new Error(`${expected - this.count} deliveries still missing after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return performance.now() - started;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}

/** The bench policy with one webhook that wants every event, pointing at `url`. */
function webhookPolicy(policyFile: string, url: string): string {
  const file = join(dirname(policyFile), 'bench-policy-webhooks.yaml');
  writeFileSync(
    file,
    `${readFileSync(policyFile, 'utf8')}channels:\n  webhooks:\n    - { id: bench, url: "${url}", secretEnv: ${SECRET_ENV} }\n`,
  );
  return file;
}

/** Approve → the receiver has grant.activated: the approval's whole path to a webhook, per approval. */
async function approvalToWebhook(
  receiver: Receiver,
  requester: { client: BenchClient; token: string },
  approver: { client: BenchClient; token: string },
): Promise<number> {
  const created = await requester.client.call('POST', '/v1/requests', requester.token, {
    resourceId: 'prod',
    role: 'read',
    durationSeconds: 3600,
  });
  const requestId = (created.json as { id?: string } | null)?.id;
  if (created.status !== 201 || !requestId) throw new Error(`create answered ${created.status}`);
  const started = performance.now();
  const approved = await approver.client.call(
    'POST',
    `/v1/requests/${requestId}/approve`,
    approver.token,
    {},
  );
  const grantId = (approved.json as { grantId?: string } | null)?.grantId;
  if (approved.status !== 200 || !grantId) throw new Error(`approve answered ${approved.status}`);
  const arrived = await receiver.when(`grant.activated:${requestId}`, 10_000);
  const revoked = await requester.client.call('POST', `/v1/grants/${grantId}/revoke`, requester.token, {});
  if (revoked.status !== 200) throw new Error(`relinquish answered ${revoked.status}`);
  return arrived - started;
}

async function measureOn(
  data: DeploymentData,
  policyFile: string,
  samples: number,
  loadMs: number,
): Promise<ScenarioResult[]> {
  const receiver = await Receiver.start();
  const services: RunningProcess[] = [];
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const clients: BenchClient[] = [];
  try {
    const file = webhookPolicy(policyFile, receiver.url);
    for (let index = 0; index < data.processes; index++) {
      services.push(
        await startService([file, data.dataArgument], { env: { ...data.env, [SECRET_ENV]: secret } }),
      );
    }
    clients.push(...services.map((service) => new BenchClient(service.url, CONCURRENCY)));
    const [first] = clients;
    const last = clients.at(-1);
    if (!first || !last) throw new Error('no service');
    const requesterName = BENCH_USERS.at(-1) ?? 'user64';
    const requester = { client: first, token: await first.login(requesterName, BENCH_PASSWORD) };
    const approver = { client: last, token: await last.login(BENCH_APPROVER, BENCH_PASSWORD) };
    for (let index = 0; index < WARM_UP; index++) await approvalToWebhook(receiver, requester, approver);
    const latencies: number[] = [];
    for (let index = 0; index < samples; index++)
      latencies.push(await approvalToWebhook(receiver, requester, approver));

    // The lifecycle's load (auto-approved requests, each with its credential) with every step sent on.
    const tokens = await loginAll(clients, BENCH_USERS, BENCH_PASSWORD);
    const before = receiver.count;
    let lifecycles = 0;
    const load = await closedLoop({
      concurrency: CONCURRENCY,
      warmupMs: 0,
      durationMs: loadMs,
      iteration: async (worker) => {
        const client = clients[worker % clients.length] ?? first;
        await requestAndFetch(client, tokens[worker % tokens.length] ?? '');
        lifecycles += 1;
      },
    });
    // Each lifecycle is created, approved and activated: three deliveries.
    const drainMs = await receiver.drained(before + lifecycles * 3, 60_000);
    const name = `webhooks on ${data.label}`;
    return [
      result(
        name,
        'approve → grant.activated at the receiver, p99',
        'ms',
        round(percentile(latencies, 99)),
        250,
        'lower',
        `${samples} approvals through ${data.processes === 1 ? 'the process' : 'the other process'}; p50 ${round(percentile(latencies, 50))} ms`,
      ),
      result(
        name,
        'backlog left when the lifecycle load stops, drained in',
        'ms',
        round(drainMs),
        1000,
        'lower',
        `${lifecycles} lifecycles in ${round(load.elapsedMs / 1000)} s at concurrency ${CONCURRENCY} (${round(lifecycles / (load.elapsedMs / 1000))}/s, ${load.errors} errors), ${lifecycles * 3} deliveries`,
      ),
    ];
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(services.map((service) => service.stop()));
    await receiver.close();
  }
}

export function webhooksScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  return onEachDatabase((data) => measureOn(data, policyFile, full ? 300 : 50, full ? 20_000 : 5_000), {
    name: 'webhooks',
    metric: 'approve → grant.activated at the receiver, p99',
    unit: 'ms',
  });
}
