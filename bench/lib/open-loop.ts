import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchClient } from './http.js';

/** How long each step of one lifecycle took, ms. */
export interface StepTimes {
  readonly request: number;
  readonly credential: number;
}

/**
 * One lifecycle, timed per step: a request the policy approves at once (the request step covers the
 * decision and the grant), then its credential.
 */
export async function timedLifecycle(client: BenchClient, token: string): Promise<StepTimes> {
  const started = performance.now();
  const created = await client.call('POST', '/v1/requests', token, {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds: 3600,
  });
  const requested = performance.now();
  const grantId = (created.json as { grantId?: string } | null)?.grantId;
  if (created.status !== 201 || !grantId) throw new Error(`create answered ${created.status}`);
  const credential = await client.call('GET', `/v1/grants/${grantId}/credential`, token);
  if (credential.status !== 200) throw new Error(`credential answered ${credential.status}`);
  return { request: requested - started, credential: performance.now() - requested };
}

export interface OpenLoopRun<T> {
  /** What each arrival due after the warm-up answered, and how long it took from when it was due, ms. */
  readonly finished: readonly { readonly value: T; readonly latencyMs: number }[];
  readonly errors: number;
  /** Arrivals that were due but could not be started on time (the load generator fell behind), if any. */
  readonly lateStarts: number;
  readonly arrived: number;
}

/**
 * Starts `iteration` at a steady `ratePerSecond`, whether or not the earlier ones have finished, as
 * users arrive in real life: latency then shows what a person waits at that load, where a closed loop at
 * saturation shows mostly its own queue. Arrival n is due at start + n / rate; each is timed from when it
 * was due, so a generator that falls behind adds to the figures instead of hiding the wait.
 */
export async function openLoop<T>(options: {
  ratePerSecond: number;
  warmupMs: number;
  durationMs: number;
  iteration: (arrival: number) => Promise<T>;
}): Promise<OpenLoopRun<T>> {
  const finished: { value: T; latencyMs: number }[] = [];
  let errors = 0;
  let lateStarts = 0;
  const intervalMs = 1000 / options.ratePerSecond;
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const inFlight = new Set<Promise<void>>();
  let arrival = 0;
  for (;;) {
    const due = started + arrival * intervalMs;
    if (due >= stopAt) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -intervalMs) lateStarts += 1;
    const measured = due >= measureFrom;
    const running = options.iteration(arrival).then(
      (value) => {
        if (measured) finished.push({ value, latencyMs: performance.now() - due });
      },
      () => {
        if (measured) errors += 1;
      },
    );
    inFlight.add(running);
    void running.finally(() => inFlight.delete(running));
    arrival += 1;
  }
  await Promise.all(inFlight);
  return { finished, errors, lateStarts, arrived: arrival };
}
