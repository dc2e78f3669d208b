import { newId, type IdPrefix, type Database, type Transaction } from '../../server/index.js';

/** One statement as the service sent it, and how many rows it answered. */
interface TapedStatement {
  readonly text: string;
  readonly params: readonly unknown[];
  /** Sent with `queryLast` (in a transaction), `exec` (a script) or `query`. */
  readonly how: 'query' | 'queryLast' | 'exec';
  readonly rows: number;
}

/** What one call on the database did: a statement on its own, or a transaction's statements in order. */
interface TapedUnit {
  readonly transaction: boolean;
  readonly statements: readonly TapedStatement[];
}

/** The database's work for one lifecycle, in the order the service did it. */
export type SqlTape = readonly TapedUnit[];

// Only the audit chain's statements touch its head; the chainer runs on a timer, not for a lifecycle.
const CHAINING = /\baudit_head\b/;

/**
 * Records the statements the service sends while `record` runs. The service's objects keep the one
 * Database they were given, so its methods are wrapped in place; this is a bench instrument, not a
 * seam of the service. The audit chainer's transactions are left out (they run on a timer and are
 * replayed by a chainer of their own).
 */
export function tapeRecorder(db: Database): { record(work: () => Promise<void>): Promise<SqlTape> } {
  const query = db.query.bind(db);
  const transaction = db.transaction.bind(db);
  let tape: TapedUnit[] | null = null;
  const keep = (unit: TapedUnit): void => {
    if (unit.statements.some((statement) => CHAINING.test(statement.text))) return;
    tape?.push(unit);
  };

  db.query = async <Row extends object>(text: string, params: readonly unknown[] = []) => {
    const rows = await query<Row>(text, params);
    keep({ transaction: false, statements: [{ text, params, how: 'query', rows: rows.length }] });
    return rows;
  };
  db.transaction = async <T>(work: (tx: Transaction) => Promise<T>) => {
    // A retried transaction records only its last attempt.
    let statements: TapedStatement[] = [];
    const result = await transaction(async (tx) => {
      statements = [];
      const taped: Transaction = {
        async query<Row extends object>(text: string, params: readonly unknown[] = []) {
          const rows = await tx.query<Row>(text, params);
          statements.push({ text, params, how: 'query', rows: rows.length });
          return rows;
        },
        async queryLast<Row extends object>(text: string, params: readonly unknown[] = []) {
          const rows = await tx.queryLast<Row>(text, params);
          statements.push({ text, params, how: 'queryLast', rows: rows.length });
          return rows;
        },
        async exec(script: string) {
          await tx.exec(script);
          statements.push({ text: script, params: [], how: 'exec', rows: 0 });
        },
      };
      return work(taped);
    });
    if (statements.length > 0) keep({ transaction: true, statements });
    return result;
  };

  return {
    async record(work) {
      tape = [];
      try {
        await work();
        return tape;
      } finally {
        tape = null;
      }
    },
  };
}

const ID = /\b(req|grt)_[0-9a-hjkmnp-tv-z]{20}\b/g;

/** `value` with every request and grant id in it replaced through `fresh` (strings, arrays and objects). */
function withFreshIds(value: unknown, fresh: (id: string, prefix: IdPrefix) => string): unknown {
  if (typeof value === 'string')
    return value.replace(ID, (id, prefix: string) => fresh(id, prefix as IdPrefix));
  if (Array.isArray(value)) return value.map((item) => withFreshIds(item, fresh));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withFreshIds(item, fresh)]));
  }
  return value;
}

/**
 * Runs a recorded lifecycle's statements again on `db`, with new request and grant ids (the same id
 * stands for the same new one throughout), so each replay writes new rows as the service would. Throws
 * when a statement answers a different number of rows than it did for the service: the replay would no
 * longer be doing the same work.
 */
export async function replayTape(db: Database, tape: SqlTape): Promise<void> {
  const renamed = new Map<string, string>();
  const fresh = (id: string, prefix: IdPrefix): string => {
    let replacement = renamed.get(id);
    if (!replacement) {
      replacement = newId(prefix);
      renamed.set(id, replacement);
    }
    return replacement;
  };
  const check = (statement: TapedStatement, rows: number): void => {
    if (rows !== statement.rows) {
      throw new Error(
        `replayed statement answered ${rows} rows, the service's ${statement.rows}: ${statement.text.slice(0, 80)}`,
      );
    }
  };
  for (const unit of tape) {
    const params = unit.statements.map((statement) => withFreshIds(statement.params, fresh) as unknown[]);
    if (!unit.transaction) {
      const [statement] = unit.statements;
      if (statement) check(statement, (await db.query(statement.text, params[0])).length);
      continue;
    }
    await db.transaction(async (tx) => {
      for (const [index, statement] of unit.statements.entries()) {
        if (statement.how === 'exec') await tx.exec(statement.text);
        else {
          const send = statement.how === 'queryLast' ? tx.queryLast.bind(tx) : tx.query.bind(tx);
          check(statement, (await send(statement.text, params[index])).length);
        }
      }
    });
  }
}

/** The statements of a tape, one line each: two tapes of the same work have the same outline. */
export function outline(tape: SqlTape): string {
  return tape
    .map((unit) =>
      unit.statements.map((statement) => statement.text.replace(/\s+/g, ' ').slice(0, 60)).join(' ; '),
    )
    .join('\n');
}
