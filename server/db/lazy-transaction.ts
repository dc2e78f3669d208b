import type { Transaction } from './sql.js';

/** What a transaction needs of its one connection. */
export interface Connection {
  /** `alone`: the statement runs outside any transaction block, and commits by itself. */
  run<Row extends object>(text: string, params: readonly unknown[], alone: boolean): Promise<Row[]>;
  control(command: 'BEGIN' | 'COMMIT' | 'ROLLBACK'): Promise<void>;
  exec(script: string): Promise<void>;
}

/**
 * One transaction on one connection, which sends BEGIN with its first statement. A statement that fails
 * aborts the transaction in PostgreSQL, so it is rolled back even if the caller caught the error and went
 * on: it never commits half of what it meant to.
 */
class LazyTransaction implements Transaction {
  private opening: Promise<void> | null = null;
  private failed = false;
  private ended = false;

  constructor(private readonly connection: Connection) {}

  query<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    return this.inTransaction(() => this.connection.run<Row>(text, params ?? [], false));
  }

  exec(script: string): Promise<void> {
    return this.inTransaction(() => this.connection.exec(script));
  }

  async queryLast<Row extends object>(text: string, params?: readonly unknown[]): Promise<Row[]> {
    if (this.opening === null && !this.ended) {
      this.ended = true;
      return this.connection.run<Row>(text, params ?? [], true);
    }
    const rows = await this.query<Row>(text, params);
    this.ended = true;
    return rows;
  }

  async commit(): Promise<void> {
    this.ended = true;
    if (this.failed) throw new Error('a statement failed inside the transaction, so it was rolled back');
    if (this.opening) await this.connection.control('COMMIT');
  }

  async rollback(): Promise<void> {
    this.ended = true;
    if (this.opening) await this.connection.control('ROLLBACK').catch(() => undefined);
  }

  private async inTransaction<Result>(send: () => Promise<Result>): Promise<Result> {
    if (this.ended) throw new Error('the transaction has ended');
    this.opening ??= this.connection.control('BEGIN');
    await this.opening;
    try {
      return await send();
    } catch (error) {
      this.failed = true;
      throw error;
    }
  }
}

export async function runLazily<T>(
  connection: Connection,
  work: (tx: Transaction) => Promise<T>,
): Promise<T> {
  const tx = new LazyTransaction(connection);
  try {
    const result = await work(tx);
    await tx.commit();
    return result;
  } catch (error) {
    await tx.rollback();
    throw error;
  }
}
