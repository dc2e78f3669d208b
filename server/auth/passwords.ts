import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * OWASP's floor for scrypt: N = 2^17, r = 8, p = 1, about 0.4 s of one core and 128 MiB per hash on a
 * small server. The parameters live in each hash, so a hash made at a lower cost still verifies, and is
 * upgraded at its owner's next successful sign-in.
 */
export const PASSWORD_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
export const MIN_PASSWORD_LENGTH = 12;
// The longest password a sign-in accepts (api/schemas.ts's loginBody).
const MAX_PASSWORD_LENGTH = 1024;
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = { ...cost, maxmem: 256 * cost.N * cost.r };
  return new Promise((resolvePromise, reject) => {
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => {
      if (error) reject(error);
      else resolvePromise(key);
    });
  });
}

/** What is wrong with a password we are asked to set, or null when nothing is. */
export function passwordProblem(password: string): string | null {
  // Counted in code points, as people count characters (an emoji is one, not two UTF-16 units).
  const length = Array.from(password).length;
  if (length < MIN_PASSWORD_LENGTH)
    return `A password needs at least ${MIN_PASSWORD_LENGTH} characters; this one has ${length}.`;
  if (length > MAX_PASSWORD_LENGTH)
    return `A password has at most ${MAX_PASSWORD_LENGTH} characters; this one has ${length}.`;
  return null;
}

/** `scrypt:N:r:p:salt:key`, salt and key in base64. */
export async function hashPassword(password: string, cost: ScryptCost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, cost);
  return `scrypt:${cost.N}:${cost.r}:${cost.p}:${salt.toString('base64')}:${key.toString('base64')}`;
}

/**
 * A hash of no password, at the cost real ones have: verifying against it takes as long as against a
 * real one, so an unknown username is not told apart by time. Made of random bytes, not by hashing.
 */
export function decoyHash(cost: ScryptCost = PASSWORD_COST): string {
  return `scrypt:${cost.N}:${cost.r}:${cost.p}:${randomBytes(16).toString('base64')}:${randomBytes(KEY_LENGTH).toString('base64')}`;
}

/** Whether a hash was made at a lower cost than `cost`, and is upgraded at the next sign-in. */
export function isWeakerThan(encoded: string, cost: ScryptCost): boolean {
  const [, n, r] = encoded.split(':');
  return Number(n) < cost.N || Number(r) < cost.r;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, key] = encoded.split(':');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
