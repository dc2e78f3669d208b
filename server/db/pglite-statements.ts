import { type messages, parse, type PGlite, protocol } from '@electric-sql/pglite';
import { isStalePlan, MAX_PREPARED_STATEMENTS } from './prepared.js';

interface Prepared {
  /** The name on the connection; '' for the unnamed statement, which the next parse replaces. */
  readonly name: string;
  readonly parameterTypes: readonly number[];
  /** The columns of its rows, as PostgreSQL described them when it was prepared; null when it has none. */
  readonly columns: messages.BackendMessage | null;
}

/**
 * Runs statements on PGlite prepared once, by name. PGlite's own `query` parses and plans the statement
 * on every call, in six calls into the engine; profiled under the lifecycle bench, parsing and planning
 * took about half of each statement's time and the database most of the service's. A prepared statement
 * runs in one call (bind, execute, sync): PostgreSQL reuses its plan, and this class the description of
 * its rows that PostgreSQL gave when it was prepared.
 *
 * The caller holds PGlite's query lock: PGlite has one connection, and another caller's messages must
 * not come between the prepare and the run.
 */
export class PgliteStatements {
  private readonly prepared = new Map<string, Prepared>();
  private made = 0;

  constructor(private readonly db: PGlite) {}

  async run<Row extends object>(
    text: string,
    params: readonly unknown[],
    options: { syncToFs: boolean },
  ): Promise<Row[]> {
    const statement = this.prepared.get(text) ?? (await this.prepare(text));
    try {
      return await this.execute<Row>(statement, params, options);
    } catch (error) {
      if (!isStalePlan(error)) throw error;
      // A migration changed a table under the statement. In a transaction that is now aborted, so the
      // caller's next attempt prepares it again; outside one, it is prepared again now.
      this.prepared.delete(text);
      if (this.db.isInTransaction()) throw error;
      return this.execute<Row>(await this.prepare(text), params, options);
    }
  }

  private async execute<Row extends object>(
    statement: Prepared,
    params: readonly unknown[],
    options: { syncToFs: boolean },
  ): Promise<Row[]> {
    const answer = await this.db.execProtocolStream(
      concat([
        protocol.serialize.bind({ statement: statement.name, values: this.serializeAll(statement, params) }),
        protocol.serialize.execute({}),
        protocol.serialize.sync(),
      ]),
      options,
    );
    // Its columns were described once, when it was prepared, not at every run: describing a wide row again
    // each time, and parsing that, took a read of a 17-column row by its key from 128 to 90 µs. Should a
    // migration change the columns, PostgreSQL refuses the statement as stale and it is prepared again.
    const [result] = parse.parseResults(
      statement.columns ? [statement.columns, ...answer] : answer,
      this.db.parsers,
    );
    // The rows' shape is the statement's; the caller names it.
    return (result?.rows ?? []) as Row[];
  }

  private async prepare(text: string): Promise<Prepared> {
    const name = this.prepared.size < MAX_PREPARED_STATEMENTS ? `timebox_${++this.made}` : '';
    // A statement that fails to parse throws here and is not remembered.
    const answer = await this.db.execProtocolStream(
      concat([
        protocol.serialize.parse({ name, text }),
        protocol.serialize.describe({ type: 'S', name }),
        protocol.serialize.sync(),
      ]),
      { syncToFs: false },
    );
    const statement = {
      name,
      parameterTypes: parse.parseDescribeStatementResults(answer),
      columns: answer.find((message) => message.name === 'rowDescription') ?? null,
    };
    if (name) this.prepared.set(text, statement);
    return statement;
  }

  /** Values in PostgreSQL's text format, by the type PostgreSQL inferred for each parameter (as PGlite's query does). */
  private serializeAll(statement: Prepared, params: readonly unknown[]): (string | null)[] {
    return params.map((value, index) => {
      if (value === null || value === undefined) return null;
      const type = statement.parameterTypes[index];
      const serializer = type === undefined ? undefined : this.db.serializers[type];
      if (serializer) return serializer(value);
      if (typeof value === 'object') return JSON.stringify(value);
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
        return value.toString();
      }
      throw new TypeError(`a ${typeof value} cannot be a statement's value`);
    });
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const joined = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
