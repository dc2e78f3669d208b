import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DesktopClock } from '../../main/core/clock.js';
import { dispatch } from '../../main/core/ipc-handlers.js';
import type { IpcResult } from '../../preload/contract.js';
import type { CoreLogger, TimeboxCore } from '../../main/core/timebox.js';
import { readStoredSettings, type SettingsStore, type StoredSettings } from '../../main/core/settings.js';
import { headlessHandlers } from '../support/desktop.js';

/**
 * Waits until `condition` holds, polling; fails after `timeoutMs` naming what it waited for. `nudge` runs
 * between polls (e.g. moves a ManualClock a little so that timers waiting on it can fire).
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  options: { readonly timeoutMs?: number; readonly nudge?: () => unknown } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await options.nudge?.();
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** Settings in memory, with every write kept (to prove what was and was not written). */
export function memorySettings(
  initial: Partial<StoredSettings> = {},
): SettingsStore & { readonly current: StoredSettings; readonly writes: StoredSettings[] } {
  let current = readStoredSettings(initial);
  const writes: StoredSettings[] = [];
  return {
    read: () => current,
    write: (next) => {
      writes.push(next);
      current = next;
    },
    get current() {
      return current;
    },
    writes,
  };
}

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly details: object;
  readonly message: string;
}

export function recordingLog(): CoreLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (details, message) => lines.push({ level: 'info', details, message }),
    warn: (details, message) => lines.push({ level: 'warn', details, message }),
  };
}

/**
 * A clock for code that only waits (retry backoff): each timer fires on the next turn of the event loop,
 * and its delay is recorded, so a test sees the backoff without waiting for it.
 */
export function recordingClock(start = Date.parse('2030-01-07T09:00:00.000Z')): DesktopClock & {
  readonly delays: number[];
} {
  const delays: number[] = [];
  return {
    delays,
    now: () => start,
    monotonic: () => 0,
    setTimer(callback, delayMs) {
      delays.push(delayMs);
      const handle = setImmediate(callback);
      return () => {
        clearImmediate(handle);
      };
    },
  };
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export interface LocalServer {
  readonly url: string;
  readonly port: number;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** A small HTTP server the test scripts: `handle` answers each request (its index counts from 0). */
export async function localServer(
  handle: (request: SeenRequest, response: ServerResponse, index: number) => void,
): Promise<LocalServer> {
  const requests: SeenRequest[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const seen: SeenRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      handle(seen, response, requests.length - 1);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** A port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

export function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Calls into a core the way a window does: through main's IPC handlers and `dispatch`'s argument checks,
 * as `caller` (the name refusals are logged under). No clipboard, browser or renderer stands behind them.
 */
export function ipcCaller(
  core: TimeboxCore,
  clock: DesktopClock,
  caller: string,
): (method: string, args: unknown) => Promise<IpcResult<unknown>> {
  const log = recordingLog();
  const handlers = headlessHandlers({ core, clock, log });
  return (method, args) => dispatch(handlers, method, args, log, caller);
}
