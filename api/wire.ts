import { z } from 'zod';

/** The primitives every wire shape is built from: times, and text PostgreSQL can store. */

export const isoTime = z.iso.datetime().describe('ISO-8601 UTC time');
// PostgreSQL cannot store NUL, and half a surrogate pair is not text: refuse both at the door.
// eslint-disable-next-line no-control-regex -- NUL is exactly what this pattern looks for
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
export const shortText = (max: number) =>
  z
    .string()
    .max(max, { error: `expected at most ${max} characters` })
    .refine((text) => !UNSTORABLE.test(text), {
      error: 'expected text without NUL characters or broken surrogate pairs',
    });
export const id = shortText(64).min(1);
