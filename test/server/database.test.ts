import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../server/db/database.js';
import { DATABASES, openTestDatabase } from '../support/databases.js';

/** The Database contract the service relies on, on both engines; on PGlite statements run prepared. */
describe.each(DATABASES)('the database on %s', (kind) => {
  let db: Database;
  let close: () => Promise<void>;

  beforeAll(async () => {
    // One connection on PostgreSQL too, so a statement runs again where it was prepared.
    ({ db, close } = await openTestDatabase(kind, 1));
    await db.exec(`CREATE TABLE notes (
      id int PRIMARY KEY,
      body text,
      tags text[] NOT NULL DEFAULT '{}',
      data jsonb,
      at timestamptz
    )`);
  });

  afterAll(() => close());

  it('runs the same statement again with other values, and reads back every type it writes', async () => {
    const insert = 'INSERT INTO notes (id, body, tags, data, at) VALUES ($1, $2, $3, $4, $5) RETURNING *';
    const at = new Date('2026-11-30T12:00:00.123Z');
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      const [row] = await db.query<{
        id: number;
        body: string | null;
        tags: string[];
        data: unknown;
        at: Date;
      }>(insert, [id, id % 2 ? `note ${id}` : null, ['a', `b,"${id}"`], { id, nested: { list: [id] } }, at]);
      expect(row).toEqual({
        id,
        body: id % 2 ? `note ${id}` : null,
        tags: ['a', `b,"${id}"`],
        data: { id, nested: { list: [id] } },
        at,
      });
    }
    const counted = await db.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM notes WHERE id = ANY($1)',
      [[1, 2, 3]],
    );
    expect(counted).toEqual([{ count: 3 }]);
  });

  it('answers a statement that does not parse with PostgreSQL’s error, and goes on working', async () => {
    const broken = db.query('SELEC id FROM notes');
    await expect(broken).rejects.toMatchObject({ code: '42601' });
    // The same text again fails the same way: a statement that failed to parse is not kept.
    await expect(db.query('SELEC id FROM notes')).rejects.toMatchObject({ code: '42601' });
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('refuses values of the wrong type or count, and keeps the statement for good values', async () => {
    const byId = 'SELECT body FROM notes WHERE id = $1';
    await expect(db.query(byId, ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    await expect(db.query(byId, [1, 2])).rejects.toThrow(/bind message supplies 2 parameters/);
    expect(await db.query(byId, [1])).toEqual([{ body: 'note 1' }]);
  });

  it('names the unique index a duplicate violates', async () => {
    await expect(db.query('INSERT INTO notes (id) VALUES ($1)', [1])).rejects.toMatchObject({
      code: '23505',
      constraint: 'notes_pkey',
    });
  });

  it('rolls back a failed transaction whole, and the next one commits', async () => {
    await expect(
      db.transaction(async (sql) => {
        await sql.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [100, 'kept only if committed']);
        await sql.query('INSERT INTO notes (id) VALUES ($1)', [1]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect(await db.query('SELECT id FROM notes WHERE id = $1', [100])).toEqual([]);
    await db.transaction(async (sql) => {
      await sql.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [100, 'committed']);
    });
    expect(await db.query('SELECT body FROM notes WHERE id = $1', [100])).toEqual([{ body: 'committed' }]);
  });

  it('runs a transaction’s only statement alone, with no BEGIN, and its last in the transaction', async () => {
    // VACUUM refuses to run inside a transaction block: it shows whether BEGIN was sent before it.
    await db.transaction((tx) => tx.queryLast('VACUUM notes'));
    await expect(
      db.transaction(async (tx) => {
        await tx.query('SELECT 1');
        return tx.queryLast('VACUUM notes');
      }),
    ).rejects.toMatchObject({ code: '25001' });

    // A last statement after others commits with them, or not at all.
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [300, 'first']);
      await tx.queryLast('INSERT INTO notes (id, body) VALUES ($1, $2)', [301, 'last']);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [302, 'rolled back']);
        await tx.queryLast('INSERT INTO notes (id) VALUES ($1)', [300]);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    const ids = await db.query<{ id: number }>('SELECT id FROM notes WHERE id >= 300 ORDER BY id');
    expect(ids).toEqual([{ id: 300 }, { id: 301 }]);
  });

  it('refuses a statement after the last one, and commits nothing of it', async () => {
    for (const before of [[], ['SELECT 1']]) {
      await expect(
        db.transaction(async (tx) => {
          for (const statement of before) await tx.query(statement);
          await tx.queryLast('SELECT 1');
          await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [310, 'too late']);
        }),
      ).rejects.toThrow('the transaction has ended');
    }
    expect(await db.query('SELECT id FROM notes WHERE id = $1', [310])).toEqual([]);
  });

  it('rolls back a transaction whose statement failed even when the failure was caught', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [320, 'kept only if committed']);
        await tx.query('INSERT INTO notes (id) VALUES ($1)', [1]).catch(() => undefined);
      }),
    ).rejects.toThrow('a statement failed inside the transaction, so it was rolled back');
    expect(await db.query('SELECT id FROM notes WHERE id = $1', [320])).toEqual([]);
    // The connection is usable again.
    expect(await db.transaction((tx) => tx.query('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  });

  it('never runs a statement from outside inside another caller’s open transaction', async () => {
    let insideTransaction!: () => void;
    const inserted = new Promise<void>((resolve) => {
      insideTransaction = resolve;
    });
    let finish!: () => void;
    const finishing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const transaction = db.transaction(async (sql) => {
      await sql.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [200, 'uncommitted']);
      insideTransaction();
      await finishing;
      throw new Error('rolled back on purpose');
    });
    await inserted;
    // On PGlite (one connection) this waits for the transaction; on PostgreSQL it reads from another
    // connection. Either way it must not see, or become part of, the uncommitted row.
    const outside = db.query<{ id: number }>('SELECT id FROM notes WHERE id = $1', [200]);
    finish();
    await expect(transaction).rejects.toThrow('rolled back on purpose');
    expect(await outside).toEqual([]);
    expect(await db.query('SELECT id FROM notes WHERE id = $1', [200])).toEqual([]);
  });

  it('prepares a statement again when a migration changes the shape of what it reads', async () => {
    const byId = 'SELECT * FROM notes WHERE id = $1';
    const [before] = await db.query<Record<string, unknown>>(byId, [1]);
    expect(before).not.toHaveProperty('added');
    await db.exec(`ALTER TABLE notes ADD COLUMN added text NOT NULL DEFAULT 'by a migration'`);
    expect(await db.query(byId, [1])).toEqual([expect.objectContaining({ id: 1, added: 'by a migration' })]);

    const inTransaction = 'SELECT id, added, tags FROM notes WHERE id = $1';
    await db.transaction((sql) => sql.query(inTransaction, [1]));
    await db.exec('ALTER TABLE notes ALTER COLUMN tags TYPE varchar[]');
    const [row] = await db.transaction((sql) => sql.query(inTransaction, [1]));
    expect(row).toEqual({ id: 1, added: 'by a migration', tags: ['a', 'b,"1"'] });
  });

  it('runs more distinct statements than it keeps prepared', async () => {
    for (let index = 0; index < 600; index++) {
      expect(await db.query<{ n: number }>(`SELECT $1::int + ${index} AS n`, [1])).toEqual([
        { n: index + 1 },
      ]);
    }
    // A kept statement still runs after many that were not kept.
    expect(await db.query('SELECT body FROM notes WHERE id = $1', [1])).toEqual([{ body: 'note 1' }]);
  });

  it('refuses statements once closed', async () => {
    const other = await openTestDatabase(kind);
    expect(await other.db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await other.close();
    await expect(other.db.query('SELECT 1 AS one')).rejects.toThrow();
  });
});
