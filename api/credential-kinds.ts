/**
 * Credential kinds the clients (the desktop, the CLI) treat specially. A module of its own, importing nothing, because the
 * renderer reads it too (and must not pull zod or the core into its bundle).
 */

/** A just-in-time PostgreSQL login (docs/policy.md, "PostgreSQL resources"): it connects. */
export const POSTGRES_KIND = 'postgres';
