/** Distinct statements kept prepared; past this many, a statement is parsed and planned on every call. */
export const MAX_PREPARED_STATEMENTS = 500;

/**
 * Whether PostgreSQL refused a prepared statement because a table it reads changed shape since it was
 * prepared (another instance ran a migration). Preparing it again under a new name answers it.
 */
export function isStalePlan(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    error.code === '0A000' &&
    error.message.includes('cached plan must not change result type')
  );
}
