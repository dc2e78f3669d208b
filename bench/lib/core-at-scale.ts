import { setTimeout as sleep } from 'node:timers/promises';
import { CountingClock, signInLive, startBenchDesktop, until } from './desktop.js';
import { BenchClient } from './http.js';
import { BENCH_PASSWORD } from './policy.js';

/**
 * Run with --expose-gc in a process of its own (so the heap it measures is the core's): signs a desktop
 * core in, measures the heap and the armed timers, has the service grant its user `count` grants (each
 * reaches the core through the event stream, and each credential is fetched into the keychain), then
 * measures again; then watches the core renew their tokens for RENEWAL_WATCH_MS. Prints
 * `BENCH_RESULT <json>`.
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
        // Tokens of 40 s, so the core renews every one of them while it is watched below.
        role: 'short-token',
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

// Renewals: each token lives 40 s; over this window every one is renewed at least once. What the windows
// would see (state changes touching grants), what the keychain is asked, the timers and the CPU it costs.
const RENEWAL_WATCH_MS = 60_000;
let grantChanges = 0;
// What a person could see: a grant shown as anything but stored (fetching, failed) at any change.
let notStoredShown = 0;
const unsubscribe = desktop.core.store.subscribe((update) => {
  if (update.kind !== 'change' || !update.changes.grants) return;
  grantChanges += 1;
  notStoredShown += update.changes.grants.filter(
    (grant) => grant.status === 'active' && grant.credential !== 'stored',
  ).length;
});
const warningsBefore = desktop.warnings.length;
const keychainWrites = desktop.keychain.writes();
const tokensBefore = new Map(
  await Promise.all(
    state().grants.map(async (grant) => [grant.id, await desktop.core.credential(grant.id)] as const),
  ),
);
const cpuBefore = process.cpuUsage();
const timersSeen = new Set<number>();
const watchStarted = performance.now();
while (performance.now() - watchStarted < RENEWAL_WATCH_MS) {
  timersSeen.add(clock.pending().deadlines ?? 0);
  await sleep(250);
}
const cpu = process.cpuUsage(cpuBefore);
unsubscribe();
let renewedTokens = 0;
for (const grant of state().grants) {
  const now = await desktop.core.credential(grant.id);
  if (JSON.stringify(now.secret) !== JSON.stringify(tokensBefore.get(grant.id)?.secret)) renewedTokens += 1;
}
const renewal = {
  watchedMs: RENEWAL_WATCH_MS,
  renewedTokens,
  keychainWrites: desktop.keychain.writes() - keychainWrites,
  grantChanges,
  notStoredShown,
  warnings: desktop.warnings.slice(warningsBefore, warningsBefore + 3),
  cpuMs: (cpu.user + cpu.system) / 1000,
  deadlineTimers: [...timersSeen],
  stillActive: activeAndStored(),
};
const measured = {
  count,
  absorbedMs,
  heapBefore: before.heap,
  heapAfter: after.heap,
  timersBefore: before.timers,
  timersAfter: after.timers,
  keychainEntries: desktop.keychain.size(),
  warnings: desktop.warnings.length,
  renewal,
};
await desktop.stop();
process.stdout.write(`BENCH_RESULT ${JSON.stringify(measured)}\n`);
// Pooled connections would keep the process up; it has said what it measured.
process.exit(0);
