import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import {
  createService,
  type TimeboxService,
  type IssuerFactory,
  type Policy,
} from '../../../server/index.js';
import type { StoredSettings } from '../../../main/core/settings.js';
import { startDesktop, type TestDesktop } from '../../support/desktop.js';
import { Api } from '../../support/http.js';
import { testKeychain } from '../../support/keychain.js';
import { ManualClock } from '../../support/manual-clock.js';
import { wirePage, type WiredPage } from './bridge.js';
import { buildRenderer } from './build.js';
import { startScreenshotRun } from './look.js';
import { organisationWithTotp } from '../../support/totp-organisation.js';
import { TEST_PASSWORD_COST } from '../../support/service.js';
import { serveFolder, type StaticServer } from './static-server.js';

/** The service's heartbeat; time moves in steps no longer than this, so live streams never look stale. */
const HEARTBEAT_MS = 10_000;

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** One person at the desk: a real desktop core with the real keychain, and a browser page showing its window. */
export interface Person {
  readonly desktop: TestDesktop;
  readonly keychain: ReturnType<typeof testKeychain>;
  readonly page: Page;
  readonly wired: WiredPage;
  /** Bytes that arrived on the person's event stream: heartbeats prove the stream is alive. */
  readonly streamChunks: () => number;
}

export interface WorldOptions {
  /** The organisation the service runs (the demo one and erin by default). */
  readonly organisation?: () => Promise<Policy>;
  /** Credential issuers by resource kind, beside the service's built-in ones. */
  readonly issuers?: ReadonlyMap<string, IssuerFactory>;
}

export interface WindowOptions {
  /** Keep main's first snapshot back until `wired.releaseSnapshot()`: the window shows its loading state. */
  readonly holdSnapshot?: boolean;
}

/**
 * Everything one test needs: the grant service on a manual clock (stoppable and restartable on the same
 * data and port), the renderer freshly built and served with the windows' CSP, Debian's Chromium, and
 * people. It watches every window: what each asked the network for beyond the renderer's own files, and
 * what each reported as an error.
 */
export class World {
  readonly clock = new ManualClock();
  service: TimeboxService | null = null;
  serviceUrl = '';
  private port = 0;
  private dataDir = '';
  private rendererDir = '';
  private browser: Browser | null = null;
  private server: StaticServer | null = null;
  private readonly contexts: BrowserContext[] = [];
  readonly people: Person[] = [];
  /** Every open window, each on its own fake clock that moves with the world's. */
  private readonly pages: Page[] = [];
  /** Requests any window made for something other than the renderer's own files (method and URL). */
  readonly strayRequests: string[] = [];
  /** Console errors and uncaught exceptions of every window. */
  readonly pageErrors: string[] = [];

  constructor(private readonly options: WorldOptions = {}) {}

  /** Builds and serves the renderer, starts the service and launches Chromium. */
  async start(): Promise<void> {
    await startScreenshotRun();
    try {
      this.dataDir = mkdtempSync(join(tmpdir(), 'timebox-e2e-'));
      this.rendererDir = buildRenderer();
      await this.startService();
      this.server = await serveFolder(this.rendererDir);
      this.browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    } catch (error) {
      await this.stop(); // leaves no build, data folder or listener behind
      throw error;
    }
  }

  get api(): Api {
    return new Api(this.serviceUrl);
  }

  /** Starts the service (again): the same PGlite data folder and, after the first start, the same port. */
  async startService(): Promise<void> {
    const service = await createService({
      policy: await (this.options.organisation ?? organisationWithTotp)(),
      ...(this.options.issuers ? { issuers: this.options.issuers } : {}),
      databaseUrl: null,
      dataDir: this.dataDir,
      clock: this.clock,
      logger: false,
      heartbeatMs: HEARTBEAT_MS,
      passwordCost: TEST_PASSWORD_COST,
    });
    this.serviceUrl = await service.listen(this.port, '127.0.0.1');
    this.port = Number(new URL(this.serviceUrl).port);
    this.service = service;
  }

  async stopService(): Promise<void> {
    await this.service?.close();
    this.service = null;
  }

  /** Opens a window of the app for a new person (not yet signed in), on the page's own fake clock. */
  async open(
    windowKind: 'main' | 'popover',
    options: WindowOptions & {
      readonly settings?: Partial<StoredSettings>;
      readonly openBrowser?: (url: string) => Promise<void>;
    } = {},
  ): Promise<Person> {
    if (!this.browser || !this.server) throw new Error('the world is not started');
    let chunks = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input instanceof Request ? input.url : input).endsWith('/v1/events') || !response.body)
        return response;
      const counted = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            chunks += 1;
            controller.enqueue(chunk);
          },
        }),
      );
      return new Response(counted, {
        status: response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    };
    const keychain = testKeychain();
    const desktop = await startDesktop({
      serviceUrl: this.serviceUrl,
      clock: this.clock,
      keychain,
      fetch: countingFetch,
      ...(options.settings ? { settings: options.settings } : {}),
      ...(options.openBrowser ? { openBrowser: options.openBrowser } : {}),
    });
    const { page, wired } = await this.openWindow(desktop, windowKind, options);
    const person = { desktop, keychain, page, wired, streamChunks: () => chunks };
    this.people.push(person);
    return person;
  }

  /**
   * A tab of the person's system browser, at `url`, outside the app: single sign-on happens there. Its
   * requests are its own (the identity provider's pages), so the app windows' checks do not apply.
   */
  async browserTab(url: string): Promise<Page> {
    if (!this.browser) throw new Error('the world is not started');
    const context = await this.browser.newContext({ viewport: { width: 800, height: 600 } });
    this.contexts.push(context);
    const tab = await context.newPage();
    await tab.goto(url);
    return tab;
  }

  /** Another window of a person's app (the popover beside the main window): the same core behind it. */
  async openWindow(
    desktop: TestDesktop,
    windowKind: 'main' | 'popover',
    options: WindowOptions = {},
  ): Promise<{ page: Page; wired: WiredPage }> {
    const server = this.server;
    if (!this.browser || !server) throw new Error('the world is not started');
    const context = await this.browser.newContext({
      viewport: windowKind === 'popover' ? { width: 360, height: 560 } : { width: 960, height: 680 },
      reducedMotion: 'reduce',
    });
    this.contexts.push(context);
    const page = await context.newPage();
    const name = `${windowKind} window ${this.pages.length + 1}`;
    page.on('request', (request) => {
      const url = request.url();
      // A data: URL is part of the page itself (index.html's empty icon), not a trip to the network.
      if (url.startsWith('data:') || (request.method() === 'GET' && server.serves(url))) return;
      this.strayRequests.push(`${name}: ${request.method()} ${url}`);
    });
    page.on('console', (message) => {
      if (message.type() === 'error') this.pageErrors.push(`${name}: ${message.text()}`);
    });
    page.on('pageerror', (error) => {
      this.pageErrors.push(`${name}: ${error.message}`);
    });
    // Installed a minute early, then paused exactly at the world's time: an installed clock runs until
    // paused, and it can only be paused ahead of where it is.
    await page.clock.install({ time: this.clock.now() - 60_000 });
    await page.clock.pauseAt(this.clock.now());
    const wired = await wirePage(page, desktop.core, this.clock, options);
    await page.goto(`${server.url}/index.html?window=${windowKind}`);
    this.pages.push(page);
    return { page, wired };
  }

  /**
   * Moves every clock (service, cores, pages) forward together, in steps of at most one heartbeat, waiting
   * after each step until every live event stream has shown a heartbeat, as real time would have.
   */
  async advance(ms: number): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(left, HEARTBEAT_MS);
      const live = this.people.filter(
        (person) => person.desktop.core.store.state.connection.status === 'live',
      );
      const before = live.map((person) => person.streamChunks());
      this.clock.advance(step);
      await this.service?.scheduler.settled();
      for (const page of this.pages) await page.clock.runFor(step);
      if (this.service && step === HEARTBEAT_MS) {
        await Promise.all(
          live.map((person, index) =>
            waitFor(() => person.streamChunks() > (before[index] ?? 0), 'a heartbeat on the event stream'),
          ),
        );
      }
      left -= step;
    }
  }

  /**
   * Moves one page's clock alone: what the page shows can be checked while main and the service still
   * live in the past. `catchUpWith(page, ms)` brings every other clock to it.
   */
  async advancePageOnly(page: Page, ms: number): Promise<void> {
    await page.clock.runFor(ms);
  }

  /** Moves the service, the cores and every page but `ahead` by `ms`, to where `ahead` already is. */
  async catchUpWith(ahead: Page, ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.service?.scheduler.settled();
    for (const page of this.pages) if (page !== ahead) await page.clock.runFor(ms);
  }

  /**
   * Lets one page's clock run in real time while `work` runs (axe-core needs its own timers to fire),
   * then pauses it again and brings every other clock up to where it got, so all still agree.
   */
  async withRealTime<T>(page: Page, work: () => Promise<T>): Promise<T> {
    await page.clock.resume();
    try {
      return await work();
    } finally {
      // A little ahead of the page's clock: it keeps running until the pause lands, and never goes back.
      const pageNow = (await page.evaluate(() => Date.now())) + 1000;
      await page.clock.pauseAt(pageNow);
      await this.catchUpWith(page, pageNow - this.clock.now());
    }
  }

  /** Advances to an absolute service time. */
  async advanceTo(at: number): Promise<void> {
    await this.advance(Math.max(0, at - this.clock.now()));
  }

  async stop(): Promise<void> {
    for (const person of this.people) {
      await person.desktop.stop();
      await person.keychain.wipe();
    }
    for (const context of this.contexts) await context.close();
    await this.browser?.close();
    await this.server?.close();
    await this.stopService();
    if (this.dataDir) rmSync(this.dataDir, { recursive: true, force: true });
    if (this.rendererDir) rmSync(this.rendererDir, { recursive: true, force: true });
  }
}

/**
 * The world of a suite: started before its first test, stopped after its last, and after each test it
 * checks that, under the windows' CSP (no inline code or styles) and with no network of their own, every
 * window went quietly: no request beyond the renderer's own files, no console error.
 */
export function suiteWorld(options: WorldOptions = {}): World {
  const world = new World(options);
  beforeAll(() => world.start());
  afterEach(() => {
    expect(world.strayRequests).toEqual([]);
    expect(world.pageErrors).toEqual([]);
  });
  afterAll(() => world.stop());
  return world;
}

/** Polls a condition that real I/O will make true soon (no fixed sleeps: it checks, it does not wait blindly). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
