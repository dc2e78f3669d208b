import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { grantView, loginResponse, requestView, type GrantView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import type { ApiResponse } from '../support/http.js';
import { startService, type RunningService } from '../support/service.js';

/**
 * Arbitrary bodies, over real HTTP, at the routes that take the most input: whatever arrives, the answer is
 * never a 5xx; it is either a success of the documented shape or a 4xx with `{error: {code, message}}`, and
 * a refused body changes nothing.
 */

const NUM_RUNS = 200;
const PROPERTY_TIMEOUT_MS = 180_000;

const errorShape = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[a-z]+(?:_[a-z]+)*$/),
    message: z.string().refine((message) => message.trim().length >= 10, 'a sentence'),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const verifyShape = z.object({ ok: z.literal(true), entries: z.int().nonnegative() });
const listShape = z.object({ items: z.array(z.unknown()), next: z.string().nullable() });

// ---------------------------------------------------------------------------------------------------------
// What is sent
// ---------------------------------------------------------------------------------------------------------

/** A body as it goes over the wire: raw text (none at all when undefined) and its Content-Type. */
interface Payload {
  readonly raw: string | undefined;
  readonly contentType: string;
}

const JSON_TYPE = 'application/json';

function asJson(value: unknown): Payload {
  // JSON.stringify answers undefined for undefined (and for a top-level function or symbol): no body.
  const raw = JSON.stringify(value) as string | undefined;
  return { raw, contentType: JSON_TYPE };
}

/** Strings that have broken services before: control characters, lone surrogates, limits, look-alikes. */
const NASTY_STRINGS: readonly string[] = [
  '',
  ' ',
  '\t\n\r',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff\ud800y',
  '💥🔥',
  'e\u0301',
  'ＯＰＳ-１',
  '\u202eevil',
  '\ufeffbom',
  'null',
  '{}',
  "'; DROP TABLE requests; --",
  '%00',
  '\\u0000',
  '<script>alert(1)</script>',
  'x'.repeat(1000),
  'x'.repeat(1001),
  'é'.repeat(1000),
  '😀'.repeat(501),
  'OPS-1',
  ' OPS-42 ',
  'CHG-7',
  'INC-9',
  'OPS-1\nOPS-2',
];

const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
);

/** Numbers in and around every policy range, and far outside any. */
const seconds: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -100, max: 20_000 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      0,
      -0,
      1,
      9,
      10,
      59,
      60,
      300,
      3000,
      3001,
      3599,
      3600,
      3601,
      14_400,
      14_401,
      28_800,
      28_801,
      366 * 86_400,
      366 * 86_400 + 1,
      2 ** 31,
      2 ** 53,
      -1,
      0.5,
      60.000001,
      1e21,
      1e300,
      -1e300,
    ),
  },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
);

const anyJson = fc.jsonValue({ maxDepth: 2 });

type Mutation =
  | { readonly op: 'drop'; readonly key: string }
  | { readonly op: 'set'; readonly key: string; readonly value: unknown };

const FOREIGN_KEYS = [
  'extra',
  'id',
  'status',
  'grantId',
  'userId',
  'approver',
  '__proto__',
  'constructor',
  '',
];

/** Wrong types, missing fields and extra keys, on top of a body that may well be valid. */
function mutations(keys: readonly string[]): fc.Arbitrary<Mutation[]> {
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('drop' as const), key: fc.constantFrom(...keys) }),
    fc.record({
      op: fc.constant('set' as const),
      key: fc.constantFrom(...keys),
      value: fc.oneof(anyJson, text, seconds),
    }),
    fc.record({
      op: fc.constant('set' as const),
      key: fc.oneof(fc.constantFrom(...FOREIGN_KEYS), fc.string({ maxLength: 10 })),
      value: anyJson,
    }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 });
}

function mutate(
  base: Readonly<Record<string, unknown>>,
  changes: readonly Mutation[],
): Record<string, unknown> {
  let body: Record<string, unknown> = { ...base };
  for (const change of changes) {
    if (change.op === 'drop') {
      body = Object.fromEntries(Object.entries(body).filter(([key]) => key !== change.key));
    } else {
      // defineProperty, so "__proto__" becomes an own key that JSON.stringify sends.
      Object.defineProperty(body, change.key, {
        value: change.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return body;
}

/**
 * Everything a route might be sent: its plausible bodies as they are and mutated, arbitrary JSON and
 * values, raw text, truncated JSON, bodies over 64 KiB and the wrong Content-Type.
 */
function payloads(
  base: fc.Arbitrary<Record<string, unknown>>,
  keys: readonly string[],
): fc.Arbitrary<Payload> {
  return fc.oneof(
    { weight: 4, arbitrary: base.map(asJson) },
    {
      weight: 6,
      arbitrary: fc.tuple(base, mutations(keys)).map(([body, changes]) => asJson(mutate(body, changes))),
    },
    { weight: 2, arbitrary: fc.jsonValue().map(asJson) },
    { weight: 1, arbitrary: fc.anything().map(asJson) },
    { weight: 1, arbitrary: fc.object().map(asJson) },
    { weight: 1, arbitrary: fc.string().map((raw) => ({ raw, contentType: JSON_TYPE })) },
    {
      weight: 1,
      arbitrary: fc.tuple(base, fc.nat()).map(([body, cut]) => {
        const raw = JSON.stringify(body);
        return { raw: raw.slice(0, cut % Math.max(1, raw.length)), contentType: JSON_TYPE };
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(base, fc.constantFrom(...keys), fc.integer({ min: 64 * 1024, max: 80 * 1024 }))
        .map(([body, key, size]) => asJson({ ...body, [key]: 'x'.repeat(size) })),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          base,
          fc.constantFrom(
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json; charset=utf-8',
            'APPLICATION/JSON',
            'application/vnd.api+json',
          ),
        )
        .map(([body, contentType]) => ({ raw: JSON.stringify(body), contentType })),
    },
  );
}

/** Every role alice may request, with its duration range, and two that do not exist. */
const CREATE_TARGETS: readonly (readonly [resourceId: string, role: string, min: number, max: number])[] = [
  ['sandbox', 'operator', 10, 3600],
  ['design-suite', 'seat', 10, 8 * 3600],
  ['prod-db', 'read', 60, 4 * 3600],
  ['prod-db', 'write', 60, 2 * 3600],
  ['prod-db', 'owner', 300, 3600],
  ['cloud-admin', 'administrator', 300, 4 * 3600],
  ['sandbox', 'read', 10, 3600],
  ['mainframe', 'operator', 10, 3600],
];

/** Mostly a duration the role allows, so bodies get past the policy and reach the database. */
const durationFor = (min: number, max: number): fc.Arbitrary<number> =>
  fc.oneof({ weight: 3, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: seconds });

const createBase: fc.Arbitrary<Record<string, unknown>> = fc
  .constantFrom(...CREATE_TARGETS)
  .chain(([resourceId, role, min, max]) =>
    fc
      .record({
        durationSeconds: durationFor(min, max),
        reason: fc.option(text, { nil: undefined, freq: 4 }),
        ticket: fc.option(fc.oneof(text, fc.constant(null)), { nil: undefined }),
      })
      .map(({ durationSeconds, reason, ticket }) => ({
        resourceId,
        role,
        durationSeconds,
        ...(reason === undefined ? {} : { reason }),
        ...(ticket === undefined ? {} : { ticket }),
      })),
  );

// alice's grant has 50 minutes of headroom: most durations fit.
const extendBase: fc.Arbitrary<Record<string, unknown>> = fc
  .record({ durationSeconds: durationFor(1, 3000), reason: fc.option(text, { nil: undefined, freq: 4 }) })
  .map(({ durationSeconds, reason }) => ({ durationSeconds, ...(reason === undefined ? {} : { reason }) }));

const loginBase: fc.Arbitrary<Record<string, unknown>> = fc
  .record({
    username: fc.oneof(
      fc.constantFrom('alice', 'bob', 'carol', 'dave', 'admin', 'ALICE', 'alice ', 'mallory'),
      text,
    ),
    password: fc.oneof({ weight: 2, arbitrary: fc.constant('demo') }, { weight: 1, arbitrary: text }),
    // Mostly absent: the demo accounts have no TOTP, so a body without one may sign in.
    otp: fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.stringMatching(/^\d{6}$/) },
      { weight: 1, arbitrary: text },
    ),
  })
  .map(({ username, password, otp }) => ({ username, password, ...(otp === undefined ? {} : { otp }) }));

// ---------------------------------------------------------------------------------------------------------
// What must hold
// ---------------------------------------------------------------------------------------------------------

const shown = (response: ApiResponse): string =>
  `answered ${response.status} ${JSON.stringify(response.body)}`;

/** A refusal: a 4xx with the documented error body. */
function expectClientError(response: ApiResponse): z.output<typeof errorShape> {
  expect(response.status, shown(response)).toBeGreaterThanOrEqual(400);
  expect(response.status, shown(response)).toBeLessThan(500);
  const parsed = errorShape.safeParse(response.body);
  if (!parsed.success) throw new Error(`not {error: {code, message}}: ${shown(response)}`);
  return parsed.data;
}

describe.each(DATABASES)('arbitrary request bodies over HTTP on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let admin: string;
  let adminSince: number;

  beforeAll(async () => {
    running = await startService({ kind });
    [alice, admin] = await Promise.all([running.api.login('alice'), running.api.login('admin')]);
    adminSince = running.clock.now();
  });
  afterAll(async () => {
    await running.stop();
  });

  function send(
    method: string,
    path: string,
    token: string | undefined,
    payload: Payload,
  ): Promise<ApiResponse> {
    return running.api.call(method, path, {
      ...(token === undefined ? {} : { token }),
      ...(payload.raw === undefined
        ? {}
        : { rawBody: payload.raw, headers: { 'content-type': payload.contentType } }),
    });
  }

  async function auditEntries(): Promise<number> {
    const verify = await running.api.get('/v1/audit/verify', admin);
    expect(verify.status, shown(verify)).toBe(200);
    return verifyShape.parse(verify.body).entries;
  }

  /** Every row a list holds, page by page. */
  async function countAll(path: string): Promise<number> {
    let count = 0;
    let cursor: string | null = null;
    do {
      const page = await running.api.get(
        `${path}&limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        admin,
      );
      expect(page.status, shown(page)).toBe(200);
      const list = listShape.parse(page.body);
      count += list.items.length;
      cursor = list.next;
    } while (cursor !== null);
    return count;
  }

  async function state(): Promise<{ auditEntries: number; requests: number; grants: number }> {
    return {
      auditEntries: await auditEntries(),
      requests: await countAll('/v1/requests?scope=all'),
      grants: await countAll('/v1/grants?scope=all'),
    };
  }

  /** A new sandbox grant for alice, 10 minutes of the role's hour, so extensions have room. */
  async function freshGrant(): Promise<GrantView> {
    const created = await running.api.post('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: 'property test',
    });
    expect(created.status, shown(created)).toBe(201);
    const grantId = requestView.parse(created.body).grantId ?? '';
    const grant = await running.api.get(`/v1/grants/${grantId}`, alice);
    expect(grant.status, shown(grant)).toBe(200);
    return grantView.parse(grant.body);
  }

  it(
    'POST /v1/requests: never a 5xx; a 201 Request or a 4xx error; a refusal changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          payloads(createBase, ['resourceId', 'role', 'durationSeconds', 'reason', 'ticket']),
          async (payload) => {
            const before = await state();
            const response = await send('POST', '/v1/requests', alice, payload);
            if (response.status >= 200 && response.status < 300) {
              expect(response.status, shown(response)).toBe(201);
              const created = requestView.parse(response.body);
              expect(created).toMatchObject({ requesterId: 'alice', kind: 'access' });
              // It may stand; put things back so later bodies meet the same service.
              if (created.status === 'pending' || created.status === 'queued') {
                const cancelled = await running.api.post(`/v1/requests/${created.id}/cancel`, alice, {});
                expect(cancelled.status, shown(cancelled)).toBe(200);
              } else if (created.grantId !== null) {
                const relinquished = await running.api.post(
                  `/v1/grants/${created.grantId}/revoke`,
                  alice,
                  {},
                );
                expect(relinquished.status, shown(relinquished)).toBe(200);
              }
              return;
            }
            expectClientError(response);
            expect(await state(), `state after ${shown(response)}`).toEqual(before);
          },
        ),
        { numRuns: NUM_RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'POST /v1/grants/:id/extend: never a 5xx; a 200 Grant or a 4xx error; a refusal changes nothing',
    async () => {
      let grant = await freshGrant();
      await fc.assert(
        fc.asyncProperty(payloads(extendBase, ['durationSeconds', 'reason']), async (payload) => {
          const beforeEntries = await auditEntries();
          const beforeGrant = await running.api.get(`/v1/grants/${grant.id}`, alice);
          const response = await send('POST', `/v1/grants/${grant.id}/extend`, alice, payload);
          if (response.status >= 200 && response.status < 300) {
            // sandbox/operator is approved at once: the grant itself, longer by what was asked.
            expect(response.status, shown(response)).toBe(200);
            const extended = grantView.parse(response.body);
            const asked = z.object({ durationSeconds: z.int() }).parse(JSON.parse(payload.raw ?? 'null'));
            expect(extended).toMatchObject({ id: grant.id, status: 'active' });
            expect(Date.parse(extended.expiresAt)).toBe(
              Date.parse(grant.expiresAt) + asked.durationSeconds * 1000,
            );
            expect(Date.parse(extended.expiresAt)).toBeLessThanOrEqual(Date.parse(extended.maxExpiresAt));
            const relinquished = await running.api.post(`/v1/grants/${grant.id}/revoke`, alice, {});
            expect(relinquished.status, shown(relinquished)).toBe(200);
            grant = await freshGrant();
            return;
          }
          expectClientError(response);
          expect(await auditEntries(), `audit entries after ${shown(response)}`).toBe(beforeEntries);
          expect(
            await running.api.get(`/v1/grants/${grant.id}`, alice),
            `the grant after ${shown(response)}`,
          ).toEqual(expect.objectContaining({ status: 200, body: beforeGrant.body }));
        }),
        { numRuns: NUM_RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  it(
    'path ids: never a 5xx; an unknown id of any shape is a 400 or 404 and changes nothing',
    async () => {
      const ids = fc.oneof(
        fc.string({ minLength: 1 }),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
        fc.stringMatching(/^(req|grt)_[0-9a-z]{20}$/),
        fc.constantFrom(
          '\u0000',
          'req_\u0000',
          'grt_\u0000x',
          '%',
          '%00',
          '.',
          '..',
          'x'.repeat(64),
          'x'.repeat(65),
        ),
      );
      await fc.assert(
        fc.asyncProperty(ids, fc.constantFrom('request', 'cancel', 'grant', 'extend'), async (id, route) => {
          const before = await auditEntries();
          const encoded = encodeURIComponent(id);
          const response =
            route === 'request'
              ? await running.api.get(`/v1/requests/${encoded}`, alice)
              : route === 'cancel'
                ? await running.api.post(`/v1/requests/${encoded}/cancel`, alice, {})
                : route === 'grant'
                  ? await running.api.get(`/v1/grants/${encoded}`, alice)
                  : await running.api.post(`/v1/grants/${encoded}/extend`, alice, { durationSeconds: 60 });
          expectClientError(response);
          expect([400, 404], shown(response)).toContain(response.status);
          expect(await auditEntries(), `audit entries after ${shown(response)}`).toBe(before);
        }),
        { numRuns: 150 },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );

  // Last: it moves the clock, to keep the per-address sign-in limiter from refusing everything.
  it(
    'POST /v1/auth/login: never a 5xx; a 200 Session or a 4xx error; a refusal changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(payloads(loginBase, ['username', 'password', 'otp']), async (payload) => {
          // Sessions last 8 h; keep the administrator's fresh while the clock moves.
          if (running.clock.now() - adminSince > 6 * 3600 * 1000) {
            admin = await running.api.login('admin');
            adminSince = running.clock.now();
          }
          const before = await auditEntries();
          const response = await send('POST', '/v1/auth/login', undefined, payload);
          if (response.status >= 200 && response.status < 300) {
            expect(response.status, shown(response)).toBe(200);
            const session = loginResponse.parse(response.body);
            const sent = z.object({ username: z.string() }).parse(JSON.parse(payload.raw ?? 'null'));
            expect(session.user.username).toBe(sent.username);
            expect(response.headers.get('cache-control')).toBe('no-store');
            const me = await running.api.get('/v1/me', session.token);
            expect(me.status, shown(me)).toBe(200);
            // A sign-in is audited: exactly one entry.
            expect(await auditEntries()).toBe(before + 1);
            return;
          }
          const refusal = expectClientError(response);
          if (response.status === 429) {
            expect(refusal.error.code).toBe('too_many_attempts');
            expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
          }
          expect(await auditEntries(), `audit entries after ${shown(response)}`).toBe(before);
          // A failed sign-in counts against the address: let a minute pass before the next one.
          if (response.status === 401 || response.status === 429) await running.advance(61_000);
        }),
        { numRuns: NUM_RUNS },
      );
    },
    PROPERTY_TIMEOUT_MS,
  );
});
