import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TimeboxCore } from '../../main/core/timebox.js';
import {
  demoPassword,
  signInAsDemoEngineer,
  startEmbeddedService,
  type EmbeddedService,
} from '../../main/electron/embedded-service.js';
import { systemDesktopClock } from '../../main/core/clock.js';
import { memoryKeychain } from '../support/desktop.js';
import { memorySettings, recordingLog } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

describe('the embedded demo service', () => {
  const userDataDir = mkdtempSync(join(tmpdir(), 'timebox-embedded-'));
  let service: EmbeddedService;
  let core: TimeboxCore;

  beforeAll(async () => {
    service = await startEmbeddedService({ userDataDir, password: 'demo', env: {} });
  });
  afterAll(async () => {
    await core.stop();
    await service.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it('listens on loopback, and the app signs in to it as the demo engineer', async () => {
    expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const log = recordingLog();
    core = new TimeboxCore({
      clock: systemDesktopClock,
      fetch,
      keychain: memoryKeychain(),
      settings: memorySettings({ serviceUrl: null }),
      notifier: { show: () => undefined },
      log,
      embeddedServiceUrl: service.url,
    });
    expect(core.store.state.service).toEqual({ url: service.url, embedded: true });
    await core.start();
    await signInAsDemoEngineer(core, 'demo', log);
    expect(core.store.state.session).toMatchObject({ status: 'signed-in', user: { username: 'alice' } });
    expect(log.entries).toContainEqual(
      expect.objectContaining({ message: 'signed in to the embedded demo service' }),
    );
  });

  it("keeps the process's series out of its /metrics: nobody scrapes it, and their monitor would wake the app", async () => {
    const exposition = await (await fetch(`${service.url}/metrics`)).text();
    expect(exposition).toMatch(/^# TYPE timebox_active_grants gauge$/m);
    expect(exposition).not.toMatch(/^# TYPE (process|nodejs)_/m);
  });

  it('does not sign in again over a session that is there', async () => {
    const signIn = vi.spyOn(core, 'signIn');
    await signInAsDemoEngineer(core, 'demo', recordingLog());
    expect(signIn).not.toHaveBeenCalled();
  });
});

describe('the demo sign-in', () => {
  it('uses TIMEBOX_DEMO_PASSWORD when it is set, else "demo"', () => {
    expect(demoPassword({})).toBe('demo');
    expect(demoPassword({ TIMEBOX_DEMO_PASSWORD: '  ' })).toBe('demo');
    expect(demoPassword({ TIMEBOX_DEMO_PASSWORD: 'correct horse' })).toBe('correct horse');
  });

  it('does nothing against a configured service', async () => {
    const core = new TimeboxCore({
      clock: systemDesktopClock,
      fetch: () => Promise.reject(new Error('not called')),
      keychain: memoryKeychain(),
      settings: memorySettings({ serviceUrl: 'https://timebox.example.com' }),
      notifier: { show: () => undefined },
      log: recordingLog(),
    });
    const signIn = vi.spyOn(core, 'signIn');
    await signInAsDemoEngineer(core, 'demo', recordingLog());
    expect(signIn).not.toHaveBeenCalled();
  });

  it('a failed sign-in is logged, not thrown', async () => {
    const core = new TimeboxCore({
      clock: systemDesktopClock,
      fetch: () => Promise.reject(new Error('connection refused')),
      keychain: memoryKeychain(),
      settings: memorySettings({ serviceUrl: null }),
      notifier: { show: () => undefined },
      log: recordingLog(),
      embeddedServiceUrl: 'http://127.0.0.1:9',
    });
    const log = recordingLog();
    vi.spyOn(core, 'signIn').mockRejectedValue(new Error('connection refused'));
    await signInAsDemoEngineer(core, 'demo', log);
    expect(log.warnings()).toEqual(['could not sign in to the embedded demo service']);
  });
});

// Generous timeout: the demo hashes its password at full cost, slow on a busy CI machine.
describe('quitting with the embedded service', { timeout: 120_000 }, () => {
  it('does not wait past its deadline for a request that never finishes', async () => {
    const userDataDir = mkdtempSync(join(tmpdir(), 'timebox-embedded-stop-'));
    const service = await startEmbeddedService({
      userDataDir,
      password: 'demo',
      env: {},
      stopTimeoutMs: 300,
    });
    const { hostname, port } = new URL(service.url);
    // A sign-in whose body never arrives in full: the drain waits for it (Node's timeout is 5 minutes).
    const slowClient = connect(Number(port), hostname);
    await new Promise<void>((resolve) => slowClient.once('connect', resolve));
    slowClient.write(
      'POST /v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"user',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      await expect(service.close()).rejects.toThrow('the embedded service did not stop within 0.3 s');
    } finally {
      slowClient.destroy();
      // The same drain, now free to finish (each call waits for it up to the deadline again).
      for (let attempt = 0; attempt < 100; attempt += 1) {
        if (
          await service.close().then(
            () => true,
            () => false,
          )
        )
          break;
      }
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
