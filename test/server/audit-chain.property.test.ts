import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyAroundSeq, chainHash } from '../../server/audit/chain.js';
import { appendAudit, listAudit, verifyAudit, type AuditDraft } from '../../server/audit/log.js';
import type { Database } from '../../server/db/database.js';
import { migrate } from '../../server/db/migrations.js';
import { DATABASES, openTestDatabase } from '../support/databases.js';

/*
 * The database appends audit entries and finishes their hashes in SQL (one statement under the head's
 * lock); verification recomputes them in code with chainHash. These properties hold the two to the same
 * bytes for any entry: text in any script, quotes, control characters, nested keys named "seq".
 */

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const jsonData = fc.dictionary(
  fc.oneof(text, fc.constantFrom('seq', 'at', 'data', '"seq":1')),
  fc.jsonValue({ maxDepth: 3 }),
  { maxKeys: 5 },
) as fc.Arbitrary<Record<string, unknown>>;
const draft: fc.Arbitrary<AuditDraft> = fc.record({
  actorId: fc.option(text, { nil: null }),
  action: text,
  subjectType: fc.constantFrom('request', 'grant', 'session', 'resource'),
  subjectId: text,
  data: jsonData,
});

describe('an audit entry without its number', () => {
  it('is the canonical JSON of the whole entry once the number goes between its two parts', () => {
    fc.assert(
      fc.property(draft, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (entry, seq) => {
        const at = new Date(1_800_000_000_000).toISOString();
        const { before, after } = bodyAroundSeq({ at, ...entry });
        expect(`${before}${seq}${after}`).toBe(canonicalize({ seq, at, ...entry }));
      }),
      { numRuns: 500 },
    );
  });
});

describe.each(DATABASES)('audit entries appended on %s', (kind) => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ db, close } = await openTestDatabase(kind));
    await migrate(db, Date.now());
  });

  afterAll(() => close());

  it('hash in the database as chainHash hashes them in code, one or several per transaction', async () => {
    let appended = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(draft, { minLength: 1, maxLength: 4 }), async (drafts) => {
        const atMs = 1_800_000_000_000 + appended;
        await db.transaction((sql) => appendAudit(sql, atMs, drafts));
        const written = await listAudit(db, appended, drafts.length + 1);
        appended += drafts.length;
        expect(written.map((entry) => entry.seq)).toEqual(
          drafts.map((_, index) => appended - drafts.length + index + 1),
        );
        for (const entry of written) expect(entry.hash).toBe(chainHash(entry.prevHash, entry));
      }),
      { numRuns: 60 },
    );
    expect(await verifyAudit(db)).toEqual({ ok: true, entries: appended });
  });

  it('appends nothing, and keeps the head, when the transaction rolls back', async () => {
    const before = await verifyAudit(db);
    const oneEntry: AuditDraft = {
      actorId: 'alice',
      action: 'request.created',
      subjectType: 'request',
      subjectId: 'req_rolled_back',
      data: {},
    };
    await expect(
      db.transaction(async (sql) => {
        await appendAudit(sql, Date.now(), [oneEntry]);
        throw new Error('the change it recorded failed');
      }),
    ).rejects.toThrow('the change it recorded failed');
    expect(await verifyAudit(db)).toEqual(before);
  });

  it('refuses to append when the head row is missing, rather than start a second chain', async () => {
    await expect(
      db.transaction(async (sql) => {
        await sql.query('DELETE FROM audit_head');
        await appendAudit(sql, Date.now(), [
          { actorId: null, action: 'grant.expired', subjectType: 'grant', subjectId: 'grt_x', data: {} },
        ]);
      }),
    ).rejects.toThrow('audit_head is missing');
    expect((await verifyAudit(db)).ok).toBe(true);
  });
});
