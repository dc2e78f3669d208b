import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Api } from '../support/http.js';
import { EventStream } from '../support/sse.js';
import { outputShows, STALL_ON_STOP, startServer, type ServerProcess } from '../support/cli-process.js';

/*
 * The service stops on SIGTERM whatever became of its standard output, within its deadline even when its
 * main thread is stuck, and at once on a second signal. The real command in its own process group, as
 * a supervisor runs it.
 */
describe('stopping the server command', { timeout: 120_000 }, () => {
  let dataDir: string;
  let running: ServerProcess | null = null;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'timebox-stop-'));
  });
  afterEach(async () => {
    await running?.killGroup();
    running = null;
  });
  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops cleanly on SIGTERM after whatever read its output has gone away (exit 0)', async () => {
    running = startServer(['--demo', '--port', '0', '--data', join(dataDir, 'broken-pipe')]);
    const api = new Api(await running.listening());
    const alice = await api.login('alice');
    const stream = await EventStream.open(api.baseUrl, alice);
    running.loseOutput();
    // Something logs into the broken pipe: a failed sign-in, and every request's own lines.
    expect(
      (await api.post('/v1/auth/login', undefined, { username: 'alice', password: 'wrong' })).status,
    ).toBe(401);
    running.signalGroup('SIGTERM');
    // sonic-boom 4 (pino's default destination) retried the broken pipe forever at exit: no exit at all.
    expect(await running.exit).toEqual({ code: 0, signal: null });
    await stream.until(() => stream.isEnded, 'the event stream to be closed by the drain');
  });

  it('ends the process at its deadline when the main thread is stuck, naming what was still open', async () => {
    running = startServer(
      ['--demo', '--port', '0', '--data', join(dataDir, 'stuck'), '--shutdown-timeout', '2s'],
      {},
      ['--import', STALL_ON_STOP],
    );
    const api = new Api(await running.listening());
    await EventStream.open(api.baseUrl, await api.login('alice'));
    running.signalGroup('SIGTERM');
    // No timer on the main thread can fire now; the watchdog thread kills the process.
    expect(await running.exit).toEqual({ code: null, signal: 'SIGKILL' });
    const missed = running
      .output()
      .split('\n')
      .find((line) => line.includes('missed its deadline'));
    const line = JSON.parse(missed ?? '{}') as { level?: number; msg?: string; stillOpen?: string[] };
    expect(line.level).toBe(50);
    expect(line.stillOpen?.length).toBeGreaterThan(0);
    expect(line.msg).toBe(
      `the stop missed its deadline of 2 s: ending the process (SIGKILL); still open: ${line.stillOpen?.join(', ') ?? ''}`,
    );
  });

  it('exits at once on a second signal, even while the first stop is stuck', async () => {
    running = startServer(
      ['--demo', '--port', '0', '--data', join(dataDir, 'second'), '--shutdown-timeout', '5m'],
      {},
      ['--import', STALL_ON_STOP],
    );
    await running.listening();
    running.signalGroup('SIGTERM');
    await outputShows(running, 'a second SIGTERM or SIGINT ends the process at once');
    running.signalGroup('SIGTERM');
    // Killed by the second SIGTERM itself, not by the (5-minute) deadline's SIGKILL.
    expect(await running.exit).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('refuses a shutdown timeout that is not a duration of at least a second', async () => {
    for (const value of ['soon', '0s']) {
      running = startServer(['--demo', '--port', '0', '--shutdown-timeout', value]);
      expect(await running.exit).toEqual({ code: 2, signal: null });
      expect(running.output()).toContain(
        `--shutdown-timeout must be a duration of at least 1 second such as "10s" or "1m", not "${value}".`,
      );
    }
  });
});
