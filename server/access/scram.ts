import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const derive = promisify(pbkdf2);

// PostgreSQL's own default for SCRAM-SHA-256 (scram_iterations).
const ITERATIONS = 4096;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores for `password` (RFC 7677; the format of
 * src/common/scram-common.c). Setting a role's password to this instead of the password itself keeps
 * the password out of the database's statement log and pg_stat_statements: PostgreSQL recognises the
 * format and stores it as is. https://www.postgresql.org/docs/current/sql-createrole.html
 */
export async function scramVerifier(password: string): Promise<string> {
  const salt = randomBytes(16);
  // Our passwords are ASCII, which SASLprep leaves as they are.
  const salted = await derive(password, salt, ITERATIONS, 32, 'sha256');
  const hmac = (key: Buffer, text: string): Buffer => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${ITERATIONS}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A password no one will guess: 256 random bits, URL-safe so it fits in a connection URI as is. */
export function randomPassword(): string {
  return randomBytes(32).toString('base64url');
}
