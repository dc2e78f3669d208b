import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainHash, GENESIS_HASH } from '../../server/audit/chain.js';
import { CHAIN_DELAY_MS } from '../../server/audit/chainer.js';
import { recordAudit, verifyAudit } from '../../server/audit/log.js';
import { openDatabase, type Database } from '../../server/db/database.js';
import type { AuditEntryView, RequestView } from '../../api/schemas.js';
import { unchainedAuditEntries } from '../support/audit.js';
import { createTestDatabase, DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

type Verdict = { ok: true; entries: number } | { ok: false; firstBadSeq: number; reason: string };

describe.each(DATABASES)('the audit log on %s', (kind) => {
  let running: RunningService;
  let admin: string;
  let alice: string;
  let bob: string;

  const verify = async (): Promise<Verdict> =>
    (await running.api.get<Verdict>('/v1/audit/verify', admin)).body;
  /** Edits the table as an attacker with database access would: around the append-only triggers. */
  const tamper = async (statement: string, params: unknown[] = []): Promise<void> => {
    const { db } = running.service;
    await db.exec('ALTER TABLE audit_log DISABLE TRIGGER USER');
    try {
      await db.query(statement, params);
    } finally {
      await db.exec('ALTER TABLE audit_log ENABLE TRIGGER USER');
    }
  };

  beforeAll(async () => {
    running = await startService({ kind });
    [admin, alice, bob] = await Promise.all([
      running.api.login('admin'),
      running.api.login('alice'),
      running.api.login('bob'),
    ]);
    const auto = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 60,
      reason: 'audit',
    });
    await running.api.get(`/v1/grants/${auto.body.grantId ?? ''}/credential`, alice);
    const pending = await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'audit',
    });
    await running.api.post(`/v1/requests/${pending.body.id}/deny`, bob, { comment: 'not today' });
    await running.advance(60_000);
  });
  afterAll(async () => {
    await running.stop();
  });

  it('records every state change and credential fetch with actor, time and details', async () => {
    const { body } = await running.api.get<{ items: AuditEntryView[] }>('/v1/audit?limit=1000', admin);
    const actions = body.items.map((entry) => `${entry.actorId ?? 'service'} ${entry.action}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'alice request.created',
        'service grant.activated',
        'alice credential.fetched',
        'bob request.denied',
        'service grant.expired',
        'alice session.started',
      ]),
    );
    const denial = body.items.find((entry) => entry.action === 'request.denied');
    expect(denial?.data).toMatchObject({ comment: 'not today' });
    expect(body.items.map((entry) => entry.seq)).toEqual(body.items.map((_, index) => index + 1));
    expect(JSON.stringify(body.items)).not.toMatch(/tbx_|eyJ/); // no session token, no credential
  });

  it('refuses to update, delete or truncate entries through SQL', async () => {
    const { db } = running.service;
    await expect(db.query(`UPDATE audit_log SET action = 'x' WHERE seq = 1`)).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit_log WHERE seq = 1')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    expect((await verify()).ok).toBe(true);
  });

  it('finds an edited entry', async () => {
    const before = await verify();
    expect(before.ok).toBe(true);
    const [row] = await running.service.db.query<{ data: Record<string, unknown> }>(
      'SELECT data FROM audit_log WHERE seq = 3',
    );
    await tamper(`UPDATE audit_log SET data = '{"edited": true}'::jsonb WHERE seq = 3`);
    expect(await verify()).toEqual({
      ok: false,
      firstBadSeq: 3,
      reason: 'entry 3 was changed after it was written',
    });
    await tamper('UPDATE audit_log SET data = $1::jsonb WHERE seq = 3', [JSON.stringify(row?.data)]);
    expect(await verify()).toEqual(before);
  });

  it('finds an edit whose hash was recomputed, at the entry after it', async () => {
    const before = await verify();
    const [row] = await running.service.db.query<
      AuditEntryView & {
        actor_id: string | null;
        subject_type: string;
        subject_id: string;
        prev_hash: string;
        at: Date;
      }
    >('SELECT * FROM audit_log WHERE seq = 4');
    if (!row) throw new Error('entry 4 expected');
    const forged = chainHash(row.prev_hash, {
      seq: 4,
      at: row.at.toISOString(),
      actorId: 'mallory',
      action: row.action,
      subjectType: row.subject_type,
      subjectId: row.subject_id,
      data: row.data,
    });
    await tamper(`UPDATE audit_log SET actor_id = 'mallory', hash = $1 WHERE seq = 4`, [forged]);
    expect(await verify()).toEqual({
      ok: false,
      firstBadSeq: 5,
      reason: 'entry 5 does not link to the entry before it',
    });
    await tamper('UPDATE audit_log SET actor_id = $1, hash = $2 WHERE seq = 4', [row.actor_id, row.hash]);
    expect(await verify()).toEqual(before);
  });

  it('finds a deleted entry, in the middle or at the end', async () => {
    const before = await verify();
    if (!before.ok) throw new Error('the log should verify');
    const { db } = running.service;
    const [middle] = await db.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE seq = 2');
    await tamper('DELETE FROM audit_log WHERE seq = 2');
    expect(await verify()).toEqual({
      ok: false,
      firstBadSeq: 2,
      reason: 'entry 2 is missing: the next entry is 3',
    });
    await tamper('INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)', [
      JSON.stringify(middle),
    ]);
    expect(await verify()).toEqual(before);

    const last = before.entries;
    const [tail] = await db.query<Record<string, unknown>>('SELECT * FROM audit_log WHERE seq = $1', [last]);
    await tamper('DELETE FROM audit_log WHERE seq = $1', [last]);
    expect(await verify()).toEqual({
      ok: false,
      firstBadSeq: last,
      reason: `entries ${last} to ${last} are missing from the end of the log`,
    });
    await tamper('INSERT INTO audit_log SELECT * FROM jsonb_populate_record(NULL::audit_log, $1::jsonb)', [
      JSON.stringify(tail),
    ]);
    expect(await verify()).toEqual(before);
  });

  it('finds an inserted entry', async () => {
    const before = await verify();
    if (!before.ok) throw new Error('the log should verify');
    const { db } = running.service;
    const [last] = await db.query<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = $1', [
      before.entries,
    ]);
    const seq = before.entries + 1;
    const at = new Date(running.clock.now()).toISOString();
    const fields = {
      seq,
      at,
      actorId: 'admin',
      action: 'grant.revoked',
      subjectType: 'grant',
      subjectId: 'grt_x',
      data: {},
    };
    await tamper(
      `INSERT INTO audit_log (seq, at, actor_id, action, subject_type, subject_id, data, prev_hash, hash)
       VALUES ($1, $2, 'admin', 'grant.revoked', 'grant', 'grt_x', '{}'::jsonb, $3, $4)`,
      [seq, at, last?.hash, chainHash(last?.hash ?? GENESIS_HASH, fields)],
    );
    expect(await verify()).toEqual({
      ok: false,
      firstBadSeq: seq,
      reason: `entries after ${before.entries} were added outside the service`,
    });
    await tamper('DELETE FROM audit_log WHERE seq = $1', [seq]);
    expect(await verify()).toEqual(before);
  });

  // PGlite has one connection: nothing can commit while the verification's transaction is open.
  it.runIf(kind === 'postgres')('verifies one snapshot while other instances keep appending', async () => {
    const { db } = running.service;
    let appendedDuringVerification = false;
    // Commits a new entry from another connection just before the verification reads the head.
    const racing: Database = {
      ...db,
      transaction: (work) =>
        db.transaction((sql) =>
          work({
            ...sql,
            query: async (text, params) => {
              if (!appendedDuringVerification && text.includes('FROM audit_head')) {
                appendedDuringVerification = true;
                const created = await running.api.post('/v1/requests', alice, {
                  resourceId: 'sandbox',
                  role: 'operator',
                  durationSeconds: 60,
                  reason: 'racing the verification',
                });
                expect(created.status).toBe(201);
              }
              return sql.query(text, params);
            },
          }),
        ),
    };
    expect(await verifyAudit(racing)).toMatchObject({ ok: true });
    expect(appendedDuringVerification).toBe(true);
    expect(await verify()).toMatchObject({ ok: true });
  });

  it('exports the whole log as JSON Lines and CSV that verify outside the service', async () => {
    const verdict = await verify();
    if (!verdict.ok) throw new Error('the log should verify');
    const jsonl = await running.api.get<string>('/v1/audit/export?format=jsonl', admin);
    expect(jsonl.status).toBe(200);
    expect(jsonl.headers.get('content-type')).toContain('application/x-ndjson');
    expect(jsonl.headers.get('content-disposition')).toMatch(
      /^attachment; filename="timebox-audit-.+\.jsonl"$/,
    );
    const entries = jsonl.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as AuditEntryView);
    expect(entries).toHaveLength(verdict.entries);
    let prevHash = GENESIS_HASH;
    for (const entry of entries) {
      expect(entry.prevHash).toBe(prevHash);
      expect(chainHash(prevHash, entry)).toBe(entry.hash);
      prevHash = entry.hash;
    }

    const csv = await running.api.get<string>('/v1/audit/export?format=csv', admin);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.body.trimEnd().split('\n');
    expect(lines[0]).toBe('seq,at,actorId,action,subjectType,subjectId,data,prevHash,hash');
    expect(lines).toHaveLength(verdict.entries + 1);
    expect(lines.at(-1)).toContain(entries.at(-1)?.hash ?? 'missing');
  });
});

describe.each(DATABASES)('audit entries left unchained on %s', (kind) => {
  it('are chained shortly after their commit, in one batch, without anyone reading the log', async () => {
    const running = await startService({ kind });
    try {
      const { db } = running.service;
      const pending = () => unchainedAuditEntries(db);
      const head = async () => (await db.query<{ seq: number }>('SELECT seq FROM audit_head'))[0]?.seq;
      const alice = await running.api.login('alice');
      const before = await head();
      const created = await running.api.post<RequestView>('/v1/requests', alice, {
        resourceId: 'sandbox',
        role: 'operator',
        durationSeconds: 60,
        reason: 'chained later',
      });
      expect(created.status).toBe(201);
      // The service's clock has not moved: the entries wait, recorded.
      expect(await pending()).toBeGreaterThan(1);
      expect(await head()).toBe(before);
      running.clock.advance(CHAIN_DELAY_MS);
      for (const end = Date.now() + 10_000; (await pending()) !== 0 && Date.now() < end;)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(await pending()).toBe(0);
      expect(await head()).toBeGreaterThan(before ?? 0);
    } finally {
      await running.stop();
    }
  });

  it('are chained when the next instance starts: an instance that dies after a commit loses none', async () => {
    const database = await createTestDatabase(kind);
    const dataDir = mkdtempSync(join(tmpdir(), 'timebox-audit-'));
    try {
      const first = await startService({ kind, database, dataDir });
      const admin = await first.api.login('admin');
      const before = (await first.api.get<Verdict>('/v1/audit/verify', admin)).body;
      if (!before.ok) throw new Error('the log should verify');
      await first.stop();
      // What a killed instance leaves: an entry committed with its change, not yet chained.
      const db = await openDatabase({
        databaseUrl: database.url,
        dataDir: kind === 'pglite' ? dataDir : null,
        logger: { warn: () => undefined },
      });
      const left = { actorId: 'alice', action: 'request.created', subjectType: 'request', data: {} } as const;
      await db.transaction((sql) => recordAudit(sql, Date.now(), [{ ...left, subjectId: 'req_left' }]));
      await db.close();

      const second = await startService({ kind, database, dataDir });
      try {
        expect(await unchainedAuditEntries(second.service.db)).toBe(0);
        const token = await second.api.login('admin');
        const after = await second.api.get<{ items: AuditEntryView[] }>(
          `/v1/audit?after=${before.entries}&limit=10`,
          token,
        );
        expect(after.body.items.map((entry) => entry.subjectId)).toContain('req_left');
        expect((await second.api.get<Verdict>('/v1/audit/verify', token)).body).toMatchObject({ ok: true });
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
