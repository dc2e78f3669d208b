import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemDesktopClock } from '../../main/core/clock.js';
import { signInLive, startBenchDesktop, until, type BenchDesktop } from '../lib/desktop.js';
import { BenchClient } from '../lib/http.js';
import { BENCH_PASSWORD } from '../lib/policy.js';
import { startProcess, startService } from '../lib/processes.js';
import { buildAndServeRenderer } from '../lib/renderer-files.js';
import { launchChromium, openWindow, type PageTimings } from '../lib/renderer-page.js';
import { result, type ScenarioResult } from '../lib/results.js';
import { percentile, round } from '../lib/stats.js';

const CORE_GRANTS = 1000;
const PAGE_GRANTS = 500;
const MB = 1024 * 1024;

interface CoreMeasurement {
  readonly count: number;
  readonly absorbedMs: number;
  readonly heapBefore: number;
  readonly heapAfter: number;
  readonly timersBefore: Record<string, number>;
  readonly timersAfter: Record<string, number>;
  readonly keychainEntries: number;
  readonly renewal: {
    readonly watchedMs: number;
    readonly renewedTokens: number;
    readonly keychainWrites: number;
    readonly grantChanges: number;
    readonly notStoredShown: number;
    readonly warnings: string[];
    readonly cpuMs: number;
    readonly deadlineTimers: number[];
    readonly stillActive: number;
  };
}

const describeTimers = (timers: Record<string, number>): string =>
  Object.entries(timers)
    .map(([owner, count]) => `${owner} ${count}`)
    .join(', ') || 'none';

/** The core with CORE_GRANTS active grants, in a process of its own with --expose-gc. */
async function coreAtScale(serviceUrl: string): Promise<ScenarioResult[]> {
  const child = await startProcess(
    'bench/lib/core-at-scale.ts',
    [serviceUrl, String(CORE_GRANTS), 'user01'],
    {},
    /BENCH_RESULT (.+)/,
    ['--expose-gc'],
  );
  await child.stop();
  const measured = JSON.parse(child.url) as CoreMeasurement;
  const name = `desktop core with ${measured.count} active grants`;
  const growth = measured.heapAfter - measured.heapBefore;
  return [
    result(
      name,
      'deadline timers armed',
      'timers',
      measured.timersAfter.deadlines ?? 0,
      1,
      'exact',
      `every armed timer by owner: ${describeTimers(measured.timersBefore)} with no grants; ${describeTimers(measured.timersAfter)} with ${measured.count}`,
    ),
    result(
      name,
      'grants shown other than stored while renewing',
      'grants',
      measured.renewal.notStoredShown,
      0,
      'exact',
      `${measured.renewal.grantChanges} changes to the grants in all${measured.renewal.warnings.length > 0 ? ` (warnings: ${measured.renewal.warnings.join(' | ')})` : ''}; ${measured.renewal.renewedTokens} of ${measured.renewal.stillActive} tokens (40 s each) renewed in ${round(measured.renewal.watchedMs / 1000)} s with ${measured.renewal.keychainWrites} keychain writes; ${round(measured.renewal.cpuMs)} ms of CPU in the core's process (${round(measured.renewal.cpuMs / Math.max(1, measured.renewal.keychainWrites), 2)} ms a renewal); deadline timers armed meanwhile: ${measured.renewal.deadlineTimers.join(' or ')}`,
    ),
    result(
      name,
      'heap growth after GC',
      'MB',
      round(growth / MB, 2),
      null,
      'lower',
      `${round(growth / measured.count / 1024, 1)} KB a grant over ${round(measured.heapBefore / MB, 1)} MB signed in with none; ${measured.count} grants and credentials reached the core in ${round(measured.absorbedMs / 1000, 1)} s; ${measured.keychainEntries} keychain entries`,
    ),
  ];
}

/** Has the service grant `count` sandbox grants to `username` ending within `endingInSeconds`, and waits for the desktop to hold them. */
async function grantMany(
  serviceUrl: string,
  desktop: BenchDesktop,
  username: string,
  count: number,
  endingInSeconds: number,
): Promise<void> {
  const client = new BenchClient(serviceUrl, 8);
  try {
    const token = await client.login(username, BENCH_PASSWORD);
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let index = next++; index < count; index = next++) {
          const created = await client.call('POST', '/v1/requests', token, {
            resourceId: 'sandbox',
            role: 'operator',
            // Under ten minutes each, so every countdown shows seconds and the ticker ticks every second.
            durationSeconds: endingInSeconds - (index % 60),
          });
          if (created.status !== 201) throw new Error(`create answered ${created.status}`);
        }
      }),
    );
  } finally {
    await client.close();
  }
  await until(
    () =>
      desktop.core.store.state.grants.filter(
        (grant) => grant.status === 'active' && grant.credential === 'stored',
      ).length === count,
    `${count} grants on ${username}'s desktop`,
    120_000,
  );
}

interface WindowMeasurement {
  readonly grantsPaintedMs: number;
  readonly cardsDrawn: number;
  readonly firstContentfulPaintMs: number | null;
  readonly tickMs: number[];
  /** Of each tick, the style and layout alone. */
  readonly layoutMs: number[];
  readonly longFrames: number;
}

/** Opens the main window on a desktop's core, waits for its grants to show, then times ticks for `seconds`. */
async function measureWindow(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  rendererUrl: string,
  desktop: BenchDesktop,
  grants: number,
  seconds: number,
): Promise<WindowMeasurement> {
  const window = await openWindow(browser, rendererUrl, desktop.core, systemDesktopClock, grants);
  try {
    let painted: PageTimings | null = null;
    const deadline = performance.now() + 30_000;
    while (painted?.grantsPaintedMs == null) {
      if (performance.now() > deadline) throw new Error(`the window never showed ${grants} grants`);
      await sleep(50);
      painted = await window.timings();
    }
    const firstContentfulPaintMs = await window.page.evaluate(() => {
      const timing = (
        globalThis as unknown as {
          performance: { getEntriesByName(name: string): { startTime: number }[] };
        }
      ).performance;
      return timing.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null;
    });
    await sleep(1000); // the first ticks after load share their frames with loading work
    const from = await window.timings();
    await sleep(seconds * 1000);
    const to = await window.timings();
    return {
      grantsPaintedMs: painted.grantsPaintedMs,
      cardsDrawn: painted.cardsDrawn ?? 0,
      firstContentfulPaintMs,
      tickMs: to.timerWorkMs.slice(from.timerWorkMs.length),
      layoutMs: to.timerLayoutMs.slice(from.timerLayoutMs.length),
      longFrames: to.longFramesMs.length - from.longFramesMs.length,
    };
  } finally {
    await window.close();
  }
}

/** The main window in Chromium: PAGE_GRANTS grants against a baseline of one. */
async function rendererAtScale(serviceUrl: string, tickSeconds: number): Promise<ScenarioResult[]> {
  const desktops: BenchDesktop[] = [];
  const server = await buildAndServeRenderer();
  const browser = await launchChromium();
  try {
    const one = await startBenchDesktop({ serviceUrl });
    desktops.push(one);
    const many = await startBenchDesktop({ serviceUrl });
    desktops.push(many);
    await signInLive(one, 'user02');
    await signInLive(many, 'user03');
    await grantMany(serviceUrl, one, 'user02', 1, 590);
    await grantMany(serviceUrl, many, 'user03', PAGE_GRANTS, 590);
    await measureWindow(browser, server.url, one, 1, 1); // warm-up: the browser's first page load is slower
    const baseline = await measureWindow(browser, server.url, one, 1, Math.ceil(tickSeconds / 2));
    const measured = await measureWindow(browser, server.url, many, PAGE_GRANTS, tickSeconds);
    const name = `renderer with ${PAGE_GRANTS} grants (Chromium)`;
    const p95 = percentile(measured.tickMs, 95);
    const baselineP95 = percentile(baseline.tickMs, 95);
    return [
      result(
        name,
        'countdown tick p95',
        'ms',
        round(p95, 2),
        4,
        'lower',
        `${measured.tickMs.length} ticks; p50 ${round(percentile(measured.tickMs, 50), 2)} ms (style and layout p50 ${round(percentile(measured.layoutMs, 50), 2)} ms), max ${round(Math.max(...measured.tickMs), 2)} ms; with 1 grant p95 ${round(baselineP95, 2)} ms (${round(p95 / baselineP95, 1)}×); ${measured.longFrames} frames ≥ 50 ms`,
      ),
      result(
        name,
        'first paint of the grant list',
        'ms',
        round(measured.grantsPaintedMs),
        500,
        'lower',
        `from navigation start, ${measured.cardsDrawn} cards drawn for the ${PAGE_GRANTS} in the list; first contentful paint ${round(measured.firstContentfulPaintMs ?? Number.NaN)} ms; with 1 grant ${round(baseline.grantsPaintedMs)} ms`,
      ),
    ];
  } finally {
    await browser.close();
    await server.close();
    await Promise.all(desktops.map((desktop) => desktop.stop()));
  }
}

export async function desktopScaleScenario(policyFile: string, full: boolean): Promise<ScenarioResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'timebox-bench-desktop-'));
  const service = await startService([policyFile, dataDir]);
  try {
    return [...(await coreAtScale(service.url)), ...(await rendererAtScale(service.url, full ? 60 : 20))];
  } finally {
    await service.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
