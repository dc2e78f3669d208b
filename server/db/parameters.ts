/**
 * A statement's parameters, numbered as they are added, so parts of one statement written in different
 * modules (the WITH items of a transaction's outbox, say) can share it without counting for each other.
 */
export class Parameters {
  readonly values: unknown[] = [];

  /** Adds a value and returns its placeholder (`$1`, `$2`, …). */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}
