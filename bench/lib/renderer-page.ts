import type { Browser, Page } from 'playwright-core';
// The page gets `window.timebox` exactly as the renderer's end-to-end tests give it.
import { INVOKE_BINDING, installBridge, PUSH_FUNCTION } from '../../test/renderer-e2e/support/bridge.js';
import { INVOKE_METHODS } from '../../preload/channels.js';
import type { DesktopClock } from '../../main/core/clock.js';
import { dispatch } from '../../main/core/ipc-handlers.js';
import { headlessHandlers } from '../../test/support/desktop.js';
import type { CoreLogger, TimeboxCore } from '../../main/core/timebox.js';

/** Debian's Chromium, as the renderer tests run it. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

const TIMINGS = '__benchTimings';

/** What the page recorded about itself (see `instrument`). */
export interface PageTimings {
  /** Each timer callback: how long it ran, with the React render it set off and the style and layout after. */
  readonly timerWorkMs: number[];
  /** Of each, the forced style and layout alone. */
  readonly timerLayoutMs: number[];
  /** Frames of 50 ms or more (Long Animation Frames API), by duration. */
  readonly longFramesMs: number[];
  /**
   * From navigation start to the end of the first frame whose grant list held the expected grants: every
   * card, or for a long (virtual) list, the cards in view with the list sized for all of them.
   */
  grantsPaintedMs: number | null;
  /** Grant cards in the page at that frame. */
  cardsDrawn: number | null;
}

type Scope = Record<string, unknown>;

/**
 * Runs in the page before its scripts. Every setTimeout callback is timed from its start to the end of the
 * microtasks it queued (React renders a useSyncExternalStore update in a microtask) plus a forced style
 * and layout, the work the next frame would otherwise do: the shared countdown ticker is the page's only
 * recurring timer, so these are its ticks. Long frames are kept as a cross-check.
 */
function instrument(names: { timings: string; expectGrants: number }): void {
  const scope = globalThis as unknown as Scope;
  const timings: PageTimings = {
    timerWorkMs: [],
    timerLayoutMs: [],
    longFramesMs: [],
    grantsPaintedMs: null,
    cardsDrawn: null,
  };
  scope[names.timings] = timings;
  const clock = scope.performance as { now(): number };
  const nativeSetTimeout = scope.setTimeout as (handler: () => void, delay?: number) => number;
  const queue = scope.queueMicrotask as (callback: () => void) => void;
  const layout = () => {
    const document = scope.document as { body: { getBoundingClientRect(): unknown } | null };
    document.body?.getBoundingClientRect();
  };
  scope.setTimeout = (handler: unknown, delay?: number, ...rest: unknown[]) => {
    if (typeof handler !== 'function') return nativeSetTimeout(handler as () => void, delay);
    return nativeSetTimeout(() => {
      const started = clock.now();
      (handler as (...args: unknown[]) => void)(...rest);
      // Two levels deep: after React's microtask and one it may queue in turn.
      queue(() => {
        queue(() => {
          const scripted = clock.now();
          layout();
          const ended = clock.now();
          timings.timerWorkMs.push(ended - started);
          timings.timerLayoutMs.push(ended - scripted);
        });
      });
    }, delay);
  };
  const Observer = scope.PerformanceObserver as
    | (new (callback: (list: { getEntries(): { duration: number }[] }) => void) => {
        observe(options: { type: string; buffered: boolean }): void;
      })
    | undefined;
  // Each frame until the cards are there; the message posted from that frame's callback is handled once
  // the frame (style, layout, paint) is done.
  const frame = scope.requestAnimationFrame as (callback: () => void) => void;
  const Channel = scope.MessageChannel as new () => {
    port1: { onmessage: (() => void) | null };
    port2: { postMessage(message: null): void };
  };
  const watch = () => {
    const document = scope.document as {
      querySelectorAll(selector: string): { length: number };
      querySelector(selector: string): { getAttribute(name: string): string | null } | null;
    };
    const cards = document.querySelectorAll('article.grant').length;
    // A virtual list's items carry the list's full length (aria-setsize).
    const listed = Number(
      document.querySelector('.grant-list > li[aria-setsize]')?.getAttribute('aria-setsize') ?? cards,
    );
    if (cards === 0 || listed < names.expectGrants) {
      frame(watch);
      return;
    }
    timings.cardsDrawn = cards;
    const channel = new Channel();
    channel.port1.onmessage = () => {
      timings.grantsPaintedMs = clock.now();
    };
    channel.port2.postMessage(null);
  };
  frame(watch);
  try {
    if (Observer)
      new Observer((list) => {
        for (const entry of list.getEntries()) timings.longFramesMs.push(entry.duration);
      }).observe({ type: 'long-animation-frame', buffered: true });
  } catch {
    // A Chromium without the Long Animation Frames API: the timer figures stand alone.
  }
}

/**
 * A window of the app in Chromium, wired to a real core the way Electron's main and preload do it (the
 * same handlers, the same argument validation), and instrumented. The core's snapshot goes over when the
 * renderer says it is ready, then every change.
 */
export async function openWindow(
  browser: Browser,
  rendererUrl: string,
  core: TimeboxCore,
  clock: DesktopClock,
  expectGrants: number,
): Promise<{ page: Page; timings: () => Promise<PageTimings>; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 960, height: 680 } });
  const page = await context.newPage();
  const log: CoreLogger = { info: () => undefined, warn: () => undefined };
  let ready = false;
  let pushes: Promise<void> = Promise.resolve();
  // A push crosses as one JSON string, parsed in the page: Playwright's argument serialisation walks an
  // object value by value, which for a 440 KB snapshot of 500 grants took 210 to 370 ms against 28 to 48 ms
  // as a string (and up to 1.3 s inside this bench's busy process). That was the harness's cost, not the
  // renderer's: Electron's IPC sends a structured clone.
  const push = (channel: 'state' | 'navigate', payload: unknown): void => {
    pushes = pushes.then(() =>
      page
        .evaluate(
          ([name, pushedChannel, json]) => {
            (globalThis as unknown as Record<string, (channel: string, payload: unknown) => void>)[name]?.(
              pushedChannel,
              JSON.parse(json) as unknown,
            );
          },
          [PUSH_FUNCTION, channel, JSON.stringify(payload)] as const,
        )
        .catch(() => undefined),
    );
  };
  const handlers = headlessHandlers<null>({
    core,
    clock,
    log,
    rendererReady: () => {
      ready = true;
      push('state', core.store.snapshot());
    },
  });
  const unsubscribe = core.store.subscribe((update) => {
    if (ready) push('state', update);
  });
  await page.exposeBinding(INVOKE_BINDING, (_source, method: string, args: unknown) =>
    dispatch(handlers, method, args, log, null),
  );
  // The functions below reach the page as their source text, as tsx compiled it: esbuild's keepNames
  // (https://esbuild.github.io/api/#keep-names) wraps named arrow functions in __name(), which the page
  // does not have. The identity stands in for it.
  await page.addInitScript({ content: 'globalThis.__name = (target) => target;' });
  await page.addInitScript(instrument, { timings: TIMINGS, expectGrants });
  await page.addInitScript(installBridge, {
    methods: INVOKE_METHODS,
    push: PUSH_FUNCTION,
    invoke: INVOKE_BINDING,
  });
  await page.goto(`${rendererUrl}/index.html?window=main`);
  return {
    page,
    timings: async () => {
      const timings = await page.evaluate(
        (name) => (globalThis as unknown as Record<string, PageTimings | undefined>)[name],
        TIMINGS,
      );
      if (!timings) throw new Error('the page lost its instrumentation');
      return timings;
    },
    close: async () => {
      unsubscribe();
      await context.close();
    },
  };
}

/** Launches Chromium for the bench. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}
