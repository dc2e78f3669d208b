import pg from 'pg';
import { describe, expect, it, onTestFinished } from 'vitest';
import { EndedGrants } from '../../server/credentials/ended-grants.js';
import { openDatabase } from '../../server/db/database.js';
import { migrate } from '../../server/db/migrations.js';
import {
  createTestDatabase,
  openTestDatabase,
  postgresAvailable,
  postgresServerUrl,
} from '../support/databases.js';
import { ManualClock } from '../support/manual-clock.js';

const FIVE_MINUTES = 5 * 60_000;

/** Ends of grants that were never written: EndedGrants only keeps ids, so none need to exist. */
const ids = (...names: string[]): string[] => names.map((name) => `grt_${name}`);

describe('the ended grants introspection trusts, on PGlite', () => {
  async function ended(): Promise<{ ended: EndedGrants; clock: ManualClock; failures: unknown[] }> {
    const { db, close } = await openTestDatabase('pglite');
    onTestFinished(close);
    const clock = new ManualClock();
    await migrate(db, clock.now());
    const failures: unknown[] = [];
    return {
      ended: new EndedGrants(db, clock, FIVE_MINUTES, (error) => failures.push(error)),
      clock,
      failures,
    };
  }

  it('is trusted only once it has read the database, and again after a lost connection is back and read', async () => {
    const { ended: grants } = await ended();
    expect(grants.knowsEveryEnd()).toBe(false); // and starts the read
    await grants.sync();
    expect(grants.knowsEveryEnd()).toBe(true);

    grants.lost();
    expect(grants.knowsEveryEnd()).toBe(false);
    // While the connection is down no read starts: one now could miss ends made before the LISTEN is back.
    grants.add(ids('heard_at_commit'));
    expect(grants.knowsEveryEnd()).toBe(false);
    await grants.reconnected();
    expect(grants.knowsEveryEnd()).toBe(true);
    expect(grants.has('grt_heard_at_commit')).toBe(true);
  });

  it('is not trusted after a read that began before the word that ends were missed', async () => {
    const { ended: grants } = await ended();
    const reading = grants.sync();
    grants.untrust(); // a NOTIFY said "grants ended" without naming them, while the read was under way
    await reading;
    expect(grants.knowsEveryEnd()).toBe(false);
    await grants.sync();
    expect(grants.knowsEveryEnd()).toBe(true);
  });

  it('forgets an end once every credential of its grant has expired, and not before', async () => {
    const { ended: grants, clock } = await ended();
    grants.add(ids('old'));
    clock.advance(FIVE_MINUTES + 30_000);
    grants.add(ids('recent'));
    expect(grants.has('grt_old')).toBe(true); // within the minute of margin for clocks that disagree
    clock.advance(61_000); // it prunes at most once a minute
    grants.add(ids('newest'));
    expect(grants.has('grt_old')).toBe(false);
    expect(grants.has('grt_recent')).toBe(true);
  });

  it('says when it cannot read, stays untrusted, and reads again at the next question', async () => {
    const { db, close } = await openTestDatabase('pglite');
    const clock = new ManualClock();
    const failures: unknown[] = [];
    const grants = new EndedGrants(db, clock, FIVE_MINUTES, (error) => failures.push(error));
    await grants.sync(); // no grants table: the read fails
    expect(failures).toHaveLength(1);
    expect(grants.knowsEveryEnd()).toBe(false);
    await migrate(db, clock.now());
    await grants.sync();
    expect(grants.knowsEveryEnd()).toBe(true);
    await close();
  });
});

describe.runIf(postgresAvailable())('the LISTEN connection on PostgreSQL', () => {
  it('says when it is lost, then when it is back', async () => {
    const database = await createTestDatabase('postgres');
    onTestFinished(() => database.drop());
    const db = await openDatabase({
      databaseUrl: database.url,
      dataDir: null,
      logger: { warn: () => undefined },
    });
    onTestFinished(() => db.close());
    const heard: string[] = [];
    const stop = await db.listen(
      'ended_grants_test',
      (payload) => heard.push(`message ${payload}`),
      () => heard.push('back'),
      () => heard.push('lost'),
    );
    onTestFinished(stop);

    const admin = new pg.Client({ connectionString: postgresServerUrl() });
    await admin.connect();
    onTestFinished(() => admin.end());
    const name = new URL(database.url ?? '').pathname.slice(1);
    const { rowCount } = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN %'`,
      [name],
    );
    expect(rowCount).toBe(1);
    for (let wait = 0; wait < 100 && !heard.includes('back'); wait++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(['lost', 'back']);
    await db.query(`SELECT pg_notify('ended_grants_test', 'after')`);
    for (let wait = 0; wait < 100 && heard.length < 3; wait++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(heard).toEqual(['lost', 'back', 'message after']);
  });
});
