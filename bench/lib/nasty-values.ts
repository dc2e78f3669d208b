/** The values hostile-inputs.ts mixes into every route's parameters, headers and bodies. */

/** Strings that have broken services before. */
export const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n\r',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff\ud800y',
  '💥🔥',
  'e\u0301',
  '\u202eevil',
  '\ufeffbom',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  'toString',
  '{}',
  "'; DROP TABLE requests; --",
  '%00',
  '%',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${7*7}',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(201),
  'x'.repeat(1001),
  '😀'.repeat(501),
  '1e999',
  '-0',
  'NaN',
  'Infinity',
  '0x10',
  '2026-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999Z',
  '+275760-09-13T00:00:00.000Z',
];

export const NASTY_NUMBERS: readonly number[] = [
  0,
  -0,
  -1,
  1,
  1.5,
  9,
  10,
  59,
  60,
  61,
  3600,
  86_400,
  86_401,
  31_622_400,
  31_622_401,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  Number.MIN_VALUE,
];

/** Bodies that are not what JSON.stringify would ever produce. */
export const RAW_BODIES: readonly string[] = [
  '',
  '{',
  '{"resourceId":',
  '[]',
  'null',
  'true',
  '"x"',
  '1e999',
  'NaN',
  '{"__proto__":{"isAdmin":true}}',
  '{"constructor":{"prototype":{"isAdmin":true}}}',
  '{"durationSeconds":60,"durationSeconds":"x"}',
  '\ufeff{}',
  '{"a":"\\ud800"}',
  '{"comment":"\\u0000"}',
  `${'['.repeat(10_000)}${']'.repeat(10_000)}`,
  `{"reason":"${'x'.repeat(70_000)}"}`,
  `{${Array.from({ length: 5000 }, (_, index) => `"k${index}":${index}`).join(',')}}`,
];

/** Percent-encodes every byte but the unreserved ones; lone surrogates go as UTF-8 replacement characters. */
export function percentEncode(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    encoded += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return encoded;
}
