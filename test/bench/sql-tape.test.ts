import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BenchClient, requestAndFetch } from '../../bench/lib/http.js';
import { BENCH_PASSWORD, BENCH_USERS, writeBenchPolicy } from '../../bench/lib/policy.js';
import { replayTape, tapeRecorder, type SqlTape } from '../../bench/lib/sql-tape.js';
import { loadPolicyFile } from '../../server/index.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

// The lifecycle bench's baseline replays the service's own statements; a replay that wrote nothing new,
// or went on after the database answered differently, would make that baseline a fiction.
describe.each(DATABASES)("the lifecycle's SQL, recorded and replayed, on %s", (kind) => {
  let folder: string;
  let running: RunningService;
  let client: BenchClient;
  let token: string;
  let tape: SqlTape;

  const count = async (table: 'requests' | 'grants' | 'audit_pending'): Promise<number> => {
    const [row] = await running.service.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    return row?.n ?? Number.NaN;
  };

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), 'timebox-tape-'));
    const policy = loadPolicyFile(await writeBenchPolicy(folder), {});
    running = await startService({ kind, policy });
    client = new BenchClient(running.url, 1);
    token = await client.login(BENCH_USERS[0] ?? '', BENCH_PASSWORD);
    // As the bench does, the user's second lifecycle: the first also writes what the service writes a few
    // times an hour (the signing key's latest token expiry).
    await requestAndFetch(client, token);
    const recorder = tapeRecorder(running.service.db);
    tape = await recorder.record(async () => {
      await requestAndFetch(client, token);
      // The chainer's transaction runs on a timer, not for the lifecycle: it stays off the tape.
      await running.service.auditChainer.flush();
    });
  });
  afterAll(async () => {
    await client.close();
    await running.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('records each statement of the lifecycle, without the audit chainer', () => {
    const texts = tape.flatMap((unit) => unit.statements.map((statement) => statement.text));
    expect(texts).toHaveLength(5);
    expect(texts.filter((text) => text.includes('FROM sessions'))).toHaveLength(2);
    expect(texts.some((text) => text.includes('INSERT INTO requests'))).toBe(true);
    expect(texts.some((text) => text.includes('audit_head'))).toBe(false);
  });

  it('writes a new request, grant and audit entries at each replay', async () => {
    const [requests, grants] = [await count('requests'), await count('grants')];
    await replayTape(running.service.db, tape);
    await replayTape(running.service.db, tape);
    expect(await count('requests')).toBe(requests + 2);
    expect(await count('grants')).toBe(grants + 2);
    const ids = await running.service.db.query<{ id: string }>('SELECT id FROM grants');
    expect(new Set(ids.map((row) => row.id)).size).toBe(ids.length);
    // Two entries for the request and one for the credential, per replay, waiting to be chained.
    expect(await count('audit_pending')).toBe(6);
  });

  it('stops at the first statement that answers differently, before writing anything', async () => {
    const [requests, pending] = [await count('requests'), await count('audit_pending')];
    await running.service.db.query('DELETE FROM sessions');
    await expect(replayTape(running.service.db, tape)).rejects.toThrow(
      /replayed statement answered 0 rows, the service's 1: SELECT s\.id, s\.user_id, s\.expires_at, s\.revoked_at, s\.last_used_at/,
    );
    expect(await count('requests')).toBe(requests);
    expect(await count('audit_pending')).toBe(pending);
  });
});
