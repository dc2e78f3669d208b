import { setTimeout as sleep } from 'node:timers/promises';
import { CountingClock, signInLive, startBenchDesktop, until } from './desktop.js';
import { BenchClient } from './http.js';
import { BENCH_PASSWORD } from './policy.js';

/**
 * Run with --expose-gc in a process of its own (so the heap it measures is the core's): signs a desktop
 * core in, measures the heap and the armed timers, has the service grant its user `count` grants (each
 * reaches the core through the event stream, and each credential is fetched into the keychain), then
 * measures again. Prints `BENCH_RESULT <json>`.
 */
const [serviceUrl, countText, username] = process.argv.slice(2);
const count = Number(countText);
if (!serviceUrl || !username || !Number.isInteger(count) || count < 1)
  throw new Error('usage: core-at-scale.ts <service url> <grants> <username>');
const collect = globalThis.gc;
if (!collect) throw new Error('run with --expose-gc');

async function settledHeap(): Promise<number> {
  // Twice, with a turn of the event loop between: finalizers and weak references let go on the second pass.
  collect?.();
  await sleep(50);
  collect?.();
  return process.memoryUsage().heapUsed;
}

const clock = new CountingClock();
const desktop = await startBenchDesktop({ serviceUrl, clock });
const state = () => desktop.core.store.state;
const activeAndStored = () =>
  state().grants.filter((grant) => grant.status === 'active' && grant.credential === 'stored').length;
await signInLive(desktop, username);
const before = { heap: await settledHeap(), timers: clock.pending() };

const client = new BenchClient(serviceUrl, 8);
const token = await client.login(username, BENCH_PASSWORD);
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    for (let index = next++; index < count; index = next++) {
      // An hour or two each, ends spread out: nothing expires while we measure.
      const created = await client.call('POST', '/v1/requests', token, {
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 3600 + index,
      });
      if (created.status !== 201) throw new Error(`create answered ${created.status}`);
    }
  }),
);
await client.close();
try {
  await until(() => activeAndStored() === count, `${count} grants with stored credentials`, 300_000);
} catch (error) {
  const byCredential: Record<string, number> = {};
  for (const grant of state().grants)
    byCredential[`${grant.status}/${grant.credential}`] =
      (byCredential[`${grant.status}/${grant.credential}`] ?? 0) + 1;
  throw new Error(
    `${String(error)}: the core holds ${JSON.stringify(byCredential)}; warnings: ${desktop.warnings.slice(0, 3).join(' | ')}`,
    { cause: error },
  );
}
const absorbedMs = performance.now() - started;
// Whatever the last events set off (a notification summary waiting to be shown) settles first.
await sleep(1500);
const after = { heap: await settledHeap(), timers: clock.pending() };
const measured = {
  count,
  absorbedMs,
  heapBefore: before.heap,
  heapAfter: after.heap,
  timersBefore: before.timers,
  timersAfter: after.timers,
  keychainEntries: desktop.keychain.size(),
  warnings: desktop.warnings.length,
};
await desktop.stop();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(measured)}\n`);
// Pooled connections would keep the process up; it has said what it measured.
process.exit(0);
