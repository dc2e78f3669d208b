import { randomBytes } from 'node:crypto';

// Crockford's base32: no I, L, O or U, so ids survive being read aloud or typed from a screenshot.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_BODY_LENGTH = 20; // 100 random bits

export type IdPrefix = 'req' | 'grt' | 'ses' | 'dlv';

export function newId(prefix: IdPrefix): string {
  const bytes = randomBytes(ID_BODY_LENGTH);
  let body = '';
  for (const byte of bytes) body += ALPHABET.charAt(byte & 31);
  return `${prefix}_${body}`;
}

const ID_PATTERNS: Readonly<Record<IdPrefix, RegExp>> = {
  req: /^req_[0-9a-hjkmnp-tv-z]{20}$/,
  grt: /^grt_[0-9a-hjkmnp-tv-z]{20}$/,
  ses: /^ses_[0-9a-hjkmnp-tv-z]{20}$/,
  dlv: /^dlv_[0-9a-hjkmnp-tv-z]{20}$/,
};

/** Whether `value` has the exact shape of an id we issue with `prefix`; anything else names nothing. */
export function isIdOf(prefix: IdPrefix, value: string): boolean {
  return ID_PATTERNS[prefix].test(value);
}
