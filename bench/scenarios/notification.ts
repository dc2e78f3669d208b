import { BenchClient } from '../lib/http.js';
import { onEachDeployment, type Deployment } from '../lib/deployments.js';
import { startBenchDesktop, signInLive, until, type BenchDesktop, type ShownNotice } from '../lib/desktop.js';
import { BENCH_APPROVER, BENCH_PASSWORD, BENCH_USERS } from '../lib/policy.js';
import { startProcess, type RunningProcess } from '../lib/processes.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const OTHER_STREAMS = 1000;
/** The person whose desktop is timed; the other streams belong to everyone else. */
const REQUESTER = BENCH_USERS.at(-1) ?? 'user64';
/** The app's notification coalescing window (NotificationPolicy's default). */
const APP_COALESCE_MS = 800;
const WARM_UP = 10;

interface Parties {
  readonly desktop: BenchDesktop;
  readonly requester: { readonly client: BenchClient; readonly token: string };
  readonly approver: { readonly client: BenchClient; readonly token: string };
}

/** Resolves with the first notice of `kind` the desktop shows from now on. */
function nextNotice(desktop: BenchDesktop, kind: string): Promise<ShownNotice> {
  return new Promise((resolve) => {
    const stop = desktop.onNotice((shown) => {
      if (shown.notice.kind !== kind) return;
      stop();
      resolve(shown);
    });
  });
}

/**
 * One round trip: the requester asks for prod/read (approved by a lead), the desktop learns of the
 * pending request from its stream, then the clock starts, the lead approves, and it stops when the
 * desktop's core hands the "access granted" notice to its Notifier. The grant is relinquished after, so
 * the desktop holds one grant at a time.
 */
async function roundTrip(parties: Parties): Promise<{ notifiedMs: number; approveMs: number }> {
  const { desktop, requester, approver } = parties;
  const created = await requester.client.call('POST', '/v1/requests', requester.token, {
    resourceId: 'prod',
    role: 'read',
    durationSeconds: 3600,
  });
  const requestId = (created.json as { id?: string } | null)?.id;
  if (created.status !== 201 || !requestId) throw new Error(`create answered ${created.status}`);
  await until(
    () => desktop.core.store.state.requests.some((request) => request.id === requestId),
    'the pending request on the desktop',
    10_000,
  );

  const notified = nextNotice(desktop, 'activated');
  const started = performance.now();
  const approved = await approver.client.call(
    'POST',
    `/v1/requests/${requestId}/approve`,
    approver.token,
    {},
  );
  const approveMs = performance.now() - started;
  const grantId = (approved.json as { grantId?: string | null } | null)?.grantId;
  if (approved.status !== 200 || !grantId) throw new Error(`approve answered ${approved.status}`);
  const shown = await Promise.race([
    notified,
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        reject(new Error('no notification within 10 s'));
      }, 10_000),
    ),
  ]);
  if (shown.notice.key !== `activated:${grantId}`) throw new Error(`notified of ${shown.notice.key}`);

  const ended = nextNotice(desktop, 'ended');
  const relinquished = await requester.client.call(
    'POST',
    `/v1/grants/${grantId}/revoke`,
    requester.token,
    {},
  );
  if (relinquished.status !== 200) throw new Error(`relinquish answered ${relinquished.status}`);
  await ended;
  return { notifiedMs: shown.at - started, approveMs };
}

/** `pauseMs` between round trips keeps each approval out of the previous one's coalescing window. */
async function roundTrips(parties: Parties, count: number, pauseMs = 0) {
  // Warm-up: the first round trips compile code paths and fill caches on both sides.
  for (let index = 0; index < WARM_UP; index += 1) await roundTrip(parties);
  const notified: number[] = [];
  const approve: number[] = [];
  for (let index = 0; index < count; index += 1) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    const trip = await roundTrip(parties);
    notified.push(trip.notifiedMs);
    approve.push(trip.approveMs);
  }
  return { notified, approve };
}

/** Holds OTHER_STREAMS streams open, split over the service's processes, each holder its own process. */
async function holdStreams(urls: readonly string[]): Promise<RunningProcess[]> {
  const holders: RunningProcess[] = [];
  try {
    for (const [index, url] of urls.entries()) {
      const share = Math.floor(OTHER_STREAMS / urls.length) + (index < OTHER_STREAMS % urls.length ? 1 : 0);
      holders.push(
        await startProcess(
          'bench/lib/stream-holder.ts',
          [url, String(share), REQUESTER],
          {},
          /BENCH_STREAMS_OPEN (\d+)/,
        ),
      );
    }
    return holders;
  } catch (error) {
    await Promise.all(holders.map((holder) => holder.stop()));
    throw error;
  }
}

async function withParties<T>(
  urls: readonly string[],
  coalesceMs: number,
  measure: (parties: Parties) => Promise<T>,
): Promise<T> {
  const [first] = urls;
  const last = urls.at(-1);
  if (!first || !last) throw new Error('no service');
  // The desktop follows one process; the approver writes through the other when there are two, so the
  // event crosses processes the way it does behind a load balancer.
  const requesterClient = new BenchClient(first, 2);
  const approverClient = new BenchClient(last, 2);
  const desktop = await startBenchDesktop({ serviceUrl: first, coalesceMs });
  try {
    await signInLive(desktop, REQUESTER);
    return await measure({
      desktop,
      requester: { client: requesterClient, token: await requesterClient.login(REQUESTER, BENCH_PASSWORD) },
      approver: { client: approverClient, token: await approverClient.login(BENCH_APPROVER, BENCH_PASSWORD) },
    });
  } finally {
    await desktop.stop();
    await Promise.all([requesterClient.close(), approverClient.close()]);
  }
}

async function measureOn({ kind, label, urls }: Deployment, samples: number): Promise<ScenarioResult[]> {
  // Notices are held 0 ms here, so the figure is the path itself; the app's coalescing window is added below.
  const { baseline, loaded } = await withParties(urls, 0, async (parties) => {
    const quiet = await roundTrips(parties, samples);
    const holders = await holdStreams(urls);
    try {
      return { baseline: quiet, loaded: await roundTrips(parties, samples) };
    } finally {
      await Promise.all(holders.map((holder) => holder.stop()));
    }
  });
  const name = `approval → notification on ${label}`;
  const p99 = percentile(loaded.notified, 99);
  const baselineP99 = percentile(baseline.notified, 99);
  const rows = [
    result(
      name,
      `p99 with ${OTHER_STREAMS} other streams`,
      'ms',
      round(p99),
      100,
      'lower',
      `${samples} approvals; p50 ${round(percentile(loaded.notified, 50))} ms (the approve POST alone p50 ${round(percentile(loaded.approve, 50))} ms); ${round(p99 / baselineP99, 2)}× the p99 with no other streams`,
    ),
    result(
      name,
      'p99 with no other streams (baseline)',
      'ms',
      round(baselineP99),
      null,
      'lower',
      `p50 ${round(percentile(baseline.notified, 50))} ms`,
    ),
  ];
  if (kind !== 'pglite') return rows;
  // What a person sees in the shipped app: the first notice of a kind goes out at once and opens the
  // coalescing window, so approvals that arrive apart are shown as fast as the path allows.
  const withWindow = await withParties(urls, APP_COALESCE_MS, (parties) =>
    roundTrips(parties, Math.max(5, Math.round(samples / 20)), APP_COALESCE_MS + 100),
  );
  return [
    ...rows,
    result(
      name,
      `p50 in the app (${APP_COALESCE_MS} ms coalescing)`,
      'ms',
      round(percentile(withWindow.notified, 50)),
      null,
      'lower',
      `${withWindow.notified.length} approvals ${APP_COALESCE_MS + 100} ms apart, no other streams: the first of a burst is not held`,
    ),
  ];
}

export function notificationScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const samples = full ? 500 : 100;
  return onEachDeployment(policyFile, (deployment) => measureOn(deployment, samples), {
    name: 'approval → notification',
    metric: `p99 with ${OTHER_STREAMS} other streams`,
    unit: 'ms',
  });
}
