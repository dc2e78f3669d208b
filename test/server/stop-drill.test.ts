import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { SERVICE_TIME_HEADER } from '../../api/service-time.js';
import { startServer, type ServerProcess } from '../support/cli-process.js';
import { createTestDatabase, DATABASES, type DatabaseKind } from '../support/databases.js';
import { Api, type ApiResponse } from '../support/http.js';
import { EventStream } from '../support/sse.js';

/*
 * The stop drill: the real server command started and stopped (SIGTERM to its process group) several
 * times on one database, each time with event streams open and requests in flight, every other time
 * with its standard output gone. Each stop must end cleanly (exit 0: the deadline's watchdog would have
 * killed it instead); after the next start, every grant past its expiry has ended, every revocation
 * that was answered holds, and the audit chain verifies.
 */
const STOPS = 3;
const SANDBOX = { resourceId: 'sandbox', role: 'operator', durationSeconds: 10, reason: 'stop drill' };

/** A call made as the stop begins: one the stop cut off (refused, reset) answers null and does not count. */
function inFlight<T>(call: Promise<ApiResponse<T>>): Promise<ApiResponse<T> | null> {
  return call.catch(() => null);
}

describe.each(DATABASES)('the stop drill on %s', (kind: DatabaseKind) => {
  let running: ServerProcess | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    await running?.killGroup();
    running = null;
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('stops cleanly every time and loses nothing across the restarts', { timeout: 240_000 }, async () => {
    const args = ['--demo', '--port', '0'];
    const env: Record<string, string> = {};
    if (kind === 'pglite') {
      const dataDir = mkdtempSync(join(tmpdir(), 'timebox-drill-'));
      cleanups.push(() => {
        rmSync(dataDir, { recursive: true, force: true });
      });
      args.push('--data', dataDir);
    } else {
      const database = await createTestDatabase('postgres');
      cleanups.push(() => database.drop());
      env.DATABASE_URL = database.url ?? '';
    }

    const grants: string[] = [];
    let firstExpiry = 0;
    const revoked: string[] = [];
    for (let stop = 0; stop < STOPS; stop += 1) {
      running = startServer(args, env);
      const api = new Api(await running.listening());
      const [alice, admin] = [await api.login('alice'), await api.login('admin')];
      const streams = [
        await EventStream.open(api.baseUrl, alice),
        await EventStream.open(api.baseUrl, admin),
      ];
      const first = await api.post<RequestView>('/v1/requests', alice, SANDBOX);
      expect(first.status).toBe(201);
      grants.push(first.body.grantId ?? '');
      if (stop === 0) firstExpiry = Date.now() + SANDBOX.durationSeconds * 1000;
      if (stop % 2 === 1) running.loseOutput();

      // In flight as the signal arrives: new grants, a revocation of the previous run's grant, reads.
      const creations = [1, 2, 3].map(() => inFlight(api.post<RequestView>('/v1/requests', alice, SANDBOX)));
      const previous = grants.at(-2);
      const revocation =
        previous === undefined ? null : inFlight(api.post(`/v1/grants/${previous}/revoke`, admin, {}));
      const reads = [
        inFlight(api.get('/v1/grants?status=active', alice)),
        inFlight(api.get('/v1/audit', admin)),
      ];
      running.signalGroup('SIGTERM');

      expect(await running.exit).toEqual({ code: 0, signal: null });
      for (const stream of streams) await stream.until(() => stream.isEnded, 'the stream to be ended');
      for (const created of await Promise.all(creations))
        if (created?.status === 201) grants.push(created.body.grantId ?? '');
      if (previous !== undefined && (await revocation)?.status === 200) revoked.push(previous);
      await Promise.all(reads);
    }

    // The first grant (10 s) ends while the service is down, if the drill has not outlasted it already.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, firstExpiry - Date.now() + 500)));
    running = startServer(args, env);
    const api = new Api(await running.listening());
    const admin = await api.login('admin');
    for (const id of grants) {
      const answer = await api.get<GrantView>(`/v1/grants/${id}`, admin);
      const now = Number(answer.headers.get(SERVICE_TIME_HEADER));
      // Whatever fell due while the service was down was ended at start, before the first request.
      if (Date.parse(answer.body.expiresAt) < now - 1000) expect(answer.body.status, id).not.toBe('active');
      if (revoked.includes(id)) expect(answer.body.status, id).toBe('revoked');
    }
    // The drill ran long enough for its first grant to be due: the check above was not vacuous.
    const firstGrant = await api.get<GrantView>(`/v1/grants/${grants[0] ?? ''}`, admin);
    expect(firstGrant.body.status).toBe('expired');
    expect((await api.get<{ ok: boolean }>('/v1/audit/verify', admin)).body).toMatchObject({ ok: true });
    running.signalGroup('SIGTERM');
    expect(await running.exit).toEqual({ code: 0, signal: null });
  });
});
