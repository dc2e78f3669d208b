import { setTimeout as sleep } from 'node:timers/promises';
import { BenchClient, loginAll } from '../lib/http.js';
import { BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { onEachDeployment } from '../lib/deployments.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

interface EndedGrant {
  readonly id: string;
  readonly expiresAt: string;
  readonly endedAt: string | null;
  readonly endReason: string | null;
}

const CREATORS = 32;

/**
 * Creates `count` grants whose expiries spread over `windowSeconds`, waits them out, and measures each
 * one's revocation lag (endedAt − expiresAt) as the service recorded it.
 */
async function runExpiries(urls: readonly string[], count: number, windowSeconds: number) {
  const clients = urls.map((url) => new BenchClient(url, CREATORS));
  try {
    const tokens = await loginAll(clients, BENCH_USERS, BENCH_PASSWORD);
    // Creation must finish before the first expiry: allow 150 grants a second, and the role's 10 s minimum.
    const leadSeconds = 10 + Math.ceil(count / 150);
    let next = 0;
    let lastExpiry = 0;
    await Promise.all(
      Array.from({ length: CREATORS }, async (_, worker) => {
        for (let index = next++; index < count; index = next++) {
          const client = clients[index % clients.length];
          const token = tokens[index % tokens.length];
          if (!client || !token) throw new Error('no client');
          const durationSeconds = leadSeconds + Math.floor((index * windowSeconds) / count);
          const created = await client.call('POST', '/v1/requests', token, {
            resourceId: 'sandbox',
            role: 'operator',
            durationSeconds,
          });
          if (created.status !== 201) throw new Error(`worker ${worker}: create answered ${created.status}`);
          lastExpiry = Math.max(lastExpiry, Date.now() + durationSeconds * 1000);
        }
      }),
    );
    await sleep(Math.max(0, lastExpiry - Date.now()) + 3000);

    const admin = clients[0];
    if (!admin) throw new Error('no client');
    const adminToken = await admin.login('admin', BENCH_PASSWORD);
    const ended: EndedGrant[] = [];
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const page = await admin.call(
        'GET',
        `/v1/grants?scope=all&status=ended&limit=200${cursor ? `&cursor=${cursor}` : ''}`,
        adminToken,
      );
      const body = page.json as { items: EndedGrant[]; next: string | null };
      ended.push(...body.items);
      cursor = body.next;
    }
    const stillActive = (await admin.call('GET', '/v1/grants?scope=all&status=active&limit=200', adminToken))
      .json as { items: unknown[] };
    const expiredActions = new Map<string, number>();
    for (let after = 0; ;) {
      const page = (await admin.call('GET', `/v1/audit?after=${after}&limit=1000`, adminToken)).json as {
        items: { seq: number; action: string; subjectId: string }[];
        next: string | null;
      };
      for (const entry of page.items) {
        if (entry.action === 'grant.expired')
          expiredActions.set(entry.subjectId, (expiredActions.get(entry.subjectId) ?? 0) + 1);
      }
      if (page.next === null) break;
      after = Number(page.next);
    }
    const lags = ended
      .filter((grant) => grant.endReason === 'expired' && grant.endedAt)
      .map((grant) => Date.parse(grant.endedAt ?? '') - Date.parse(grant.expiresAt));
    return {
      lags,
      stillActive: stillActive.items.length,
      doubleRevocations: [...expiredActions.values()].filter((times) => times > 1).length,
      missing: count - expiredActions.size,
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
  }
}

export async function expiryScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const count = full ? 10_000 : 2000;
  const windowSeconds = full ? 60 : 20;
  return onEachDeployment(
    policyFile,
    async ({ kind, label, urls }) => {
      const run = await runExpiries(urls, count, windowSeconds);
      const name = `expiry on ${label}: ${count} grants ending over ${windowSeconds} s`;
      const note = `p50 ${round(percentile(run.lags, 50))} ms; ${run.stillActive} left active, ${run.missing} never ended`;
      return [
        result(name, 'revocation lag p99', 'ms', round(percentile(run.lags, 99)), 250, 'lower', note),
        result(name, 'revocation lag max', 'ms', round(Math.max(...run.lags)), 1000, 'lower'),
        ...(kind === 'postgres'
          ? [result(name, 'grants revoked twice', 'grants', run.doubleRevocations, 1, 'lower')]
          : []),
      ];
    },
    { name: 'expiry', metric: 'revocation lag p99', unit: 'ms' },
  );
}
