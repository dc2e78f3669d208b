import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import type { Api, ApiResponse } from '../support/http.js';
import { startService, type RunningService } from '../support/service.js';

/**
 * Bad input, route by route: malformed JSON, unknown fields, wrong types, oversized bodies, unknown ids,
 * bad query parameters and headers, expired or revoked tokens, durations and tickets the policy refuses.
 * Each gets its exact 4xx with `{error: {code, message}}`, never a 500, and changes nothing: the audit
 * chain, every request and every grant look the same after the refusal as before it.
 */

const errorShape = z.strictObject({
  error: z.strictObject({
    code: z.string().regex(/^[a-z]+(?:_[a-z]+)*$/, 'a snake_case code'),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

const verifyShape = z.object({ ok: z.literal(true), entries: z.int().nonnegative() });
const listShape = z.object({ items: z.array(z.unknown()), next: z.string().nullable() });

/** The exact status and code, the documented error body, and a message a person can read and act on. */
function expectRefusal(response: ApiResponse, status: number, code: string): void {
  const seen = `answered ${response.status} ${JSON.stringify(response.body)}`;
  expect(response.status, seen).toBe(status);
  expect(response.headers.get('content-type') ?? '', seen).toContain('application/json');
  const parsed = errorShape.safeParse(response.body);
  if (!parsed.success) throw new Error(`the error body is not {error: {code, message}}: ${seen}`);
  expect(parsed.data.error.code, seen).toBe(code);
  const message = parsed.data.error.message.trim();
  expect(message.length, seen).toBeGreaterThanOrEqual(10);
  // Words a person reads, not a bare identifier.
  expect(message, seen).toMatch(/[A-Za-z]{2,}\W+[A-Za-z]{2,}/);
}

interface Snapshot {
  readonly auditEntries: number;
  readonly requests: readonly unknown[];
  readonly grants: readonly unknown[];
}

/** What an administrator sees: the audit chain's length and every request and grant. */
async function snapshot(api: Api, adminToken: string): Promise<Snapshot> {
  const [verify, requests, grants] = await Promise.all([
    api.get('/v1/audit/verify', adminToken),
    api.get('/v1/requests?scope=all&limit=200', adminToken),
    api.get('/v1/grants?scope=all&limit=200', adminToken),
  ]);
  expect(verify.status, 'GET /v1/audit/verify').toBe(200);
  expect(requests.status, 'GET /v1/requests?scope=all').toBe(200);
  expect(grants.status, 'GET /v1/grants?scope=all').toBe(200);
  const requestList = listShape.parse(requests.body);
  const grantList = listShape.parse(grants.body);
  // One page holds everything, so the comparison covers every row.
  expect(requestList.next).toBeNull();
  expect(grantList.next).toBeNull();
  return {
    auditEntries: verifyShape.parse(verify.body).entries,
    requests: requestList.items,
    grants: grantList.items,
  };
}

/** Sends a bad call and checks the refusal, and that the service's state did not move. */
async function expectRefusedUnchanged(
  api: Api,
  adminToken: string,
  send: () => Promise<ApiResponse>,
  status: number,
  code: string,
): Promise<void> {
  const before = await snapshot(api, adminToken);
  const response = await send();
  const after = await snapshot(api, adminToken);
  expect
    .soft(after, `state after a call that ${response.status === status ? 'was' : 'should be'} refused`)
    .toEqual(before);
  expectRefusal(response, status, code);
}

/** A raw HTTP call, for what fetch cannot send: repeated headers, a body without Content-Type. */
function rawCall(
  baseUrl: string,
  method: string,
  path: string,
  headers: http.OutgoingHttpHeaders,
  body?: string,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(path, baseUrl), { method, headers }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) {
          if (typeof value === 'string') responseHeaders.set(name, value);
          else if (Array.isArray(value)) for (const item of value) responseHeaders.append(name, item);
        }
        const isJson = responseHeaders.get('content-type')?.includes('application/json') ?? false;
        resolve({
          status: response.statusCode ?? 0,
          body: isJson && text ? (JSON.parse(text) as unknown) : text,
          headers: responseHeaders,
        });
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    if (body !== undefined) request.write(body);
    request.end();
  });
}

/**
 * GET /v1/events without waiting on a stream: a refusal is read in full, an accepted stream is closed
 * at once (and its status fails the assertion that follows).
 */
async function openEvents(baseUrl: string, headers: Record<string, string>): Promise<ApiResponse> {
  const controller = new AbortController();
  const response = await fetch(`${baseUrl}/v1/events`, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: controller.signal,
  });
  if (response.headers.get('content-type')?.includes('text/event-stream')) {
    controller.abort();
    return { status: response.status, body: '(an event stream)', headers: response.headers };
  }
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('application/json') ?? false;
  return {
    status: response.status,
    body: isJson && text ? (JSON.parse(text) as unknown) : text,
    headers: response.headers,
  };
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const UNKNOWN_REQUEST = 'req_00000000000000000000';
const UNKNOWN_GRANT = 'grt_00000000000000000000';
const KIB_64 = 64 * 1024;

/** `[title, case]` rows, so it.each prints whole titles (it shortens interpolated `$fields`). */
const titled = <T>(cases: readonly T[], title: (testCase: T) => string): [string, T][] =>
  cases.map((testCase) => [title(testCase), testCase]);

/** What the tables need, filled in by beforeAll. */
interface Fixture {
  readonly running: RunningService;
  readonly api: Api;
  readonly alice: string;
  readonly bob: string;
  readonly dave: string;
  readonly admin: string;
  /** alice's prod-db/read request, pending bob's decision. */
  readonly pendingId: string;
  /** alice's active sandbox/operator grant, 10 minutes of its 1 hour maximum. */
  readonly grantId: string;
}

type RouteKey = 'login' | 'create' | 'approve' | 'deny' | 'cancel' | 'extend' | 'revoke';

interface BodyRoute {
  readonly name: string;
  readonly path: (f: Fixture) => string;
  /** The caller who could act on a good body: a bad one must not act for them. */
  readonly token: (f: Fixture) => string | undefined;
  readonly valid: Readonly<Record<string, unknown>>;
}

const ROUTES: Readonly<Record<RouteKey, BodyRoute>> = {
  login: {
    name: 'POST /v1/auth/login',
    path: () => '/v1/auth/login',
    token: () => undefined,
    valid: { username: 'alice', password: 'demo' },
  },
  create: {
    name: 'POST /v1/requests',
    path: () => '/v1/requests',
    token: (f) => f.alice,
    valid: { resourceId: 'sandbox', role: 'operator', durationSeconds: 60, reason: 'fix the build' },
  },
  approve: {
    name: 'POST /v1/requests/:id/approve',
    path: (f) => `/v1/requests/${f.pendingId}/approve`,
    token: (f) => f.bob,
    valid: { comment: 'ok' },
  },
  deny: {
    name: 'POST /v1/requests/:id/deny',
    path: (f) => `/v1/requests/${f.pendingId}/deny`,
    token: (f) => f.bob,
    valid: { comment: 'not during the freeze' },
  },
  cancel: {
    name: 'POST /v1/requests/:id/cancel',
    path: (f) => `/v1/requests/${f.pendingId}/cancel`,
    token: (f) => f.alice,
    valid: {},
  },
  extend: {
    name: 'POST /v1/grants/:id/extend',
    path: (f) => `/v1/grants/${f.grantId}/extend`,
    token: (f) => f.alice,
    valid: { durationSeconds: 60, reason: 'a few more minutes' },
  },
  revoke: {
    name: 'POST /v1/grants/:id/revoke',
    path: (f) => `/v1/grants/${f.grantId}/revoke`,
    token: (f) => f.alice,
    valid: { reason: 'done' },
  },
};

interface GenericCase {
  readonly description: string;
  readonly rawBody: (valid: Readonly<Record<string, unknown>>) => string;
  readonly contentType: string;
  readonly status: number;
  readonly code: string;
}

const JSON_TYPE = 'application/json';

/** Refusals every JSON route owes, whatever its body. */
const GENERIC_CASES: readonly GenericCase[] = [
  {
    description: 'an unterminated object',
    rawBody: () => '{',
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'a truncated body',
    rawBody: (valid) => JSON.stringify(valid).slice(0, -1),
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'a trailing comma',
    rawBody: (valid) => JSON.stringify(valid).replace(/\}$/, ',}'),
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'single-quoted JSON',
    rawBody: (valid) => JSON.stringify({ ...valid, quoted: 'yes' }).replaceAll('"', "'"),
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'bare words',
    rawBody: () => 'approve please',
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'an empty JSON body',
    rawBody: () => '',
    contentType: JSON_TYPE,
    status: 400,
    code: 'malformed_json',
  },
  {
    description: 'a JSON array instead of an object',
    rawBody: (valid) => JSON.stringify([valid]),
    contentType: JSON_TYPE,
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'a JSON string instead of an object',
    rawBody: (valid) => JSON.stringify(JSON.stringify(valid)),
    contentType: JSON_TYPE,
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'a JSON number instead of an object',
    rawBody: () => '42',
    contentType: JSON_TYPE,
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'a JSON boolean instead of an object',
    rawBody: () => 'true',
    contentType: JSON_TYPE,
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'an unknown field',
    rawBody: (valid) => JSON.stringify({ ...valid, unexpected: true }),
    contentType: JSON_TYPE,
    status: 400,
    code: 'unknown_field',
  },
  {
    description: 'an unknown field in another case',
    rawBody: (valid) => JSON.stringify({ ...valid, Comment: 'x' }),
    contentType: JSON_TYPE,
    status: 400,
    code: 'unknown_field',
  },
  {
    description: 'a good body sent as text/plain',
    rawBody: (valid) => JSON.stringify(valid),
    contentType: 'text/plain',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    description: 'a form-encoded body',
    rawBody: () => 'username=alice&password=demo',
    contentType: 'application/x-www-form-urlencoded',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    description: 'an XML body',
    rawBody: () => '<request/>',
    contentType: 'application/xml',
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    description: 'a body over 64 KiB',
    rawBody: (valid) => JSON.stringify({ ...valid, padding: 'x'.repeat(KIB_64) }),
    contentType: JSON_TYPE,
    status: 413,
    code: 'payload_too_large',
  },
  {
    description: 'a body over 64 KiB of whitespace around a good body',
    rawBody: (valid) => `${' '.repeat(KIB_64)}${JSON.stringify(valid)}`,
    contentType: JSON_TYPE,
    status: 413,
    code: 'payload_too_large',
  },
];

const GENERIC_TABLE = titled(
  (Object.keys(ROUTES) as RouteKey[]).flatMap((route) =>
    GENERIC_CASES.map((testCase) => ({ route, ...testCase })),
  ),
  ({ route, description, status, code }) => `${ROUTES[route].name}: ${description} → ${status} ${code}`,
);

interface SpecificCase {
  readonly route: RouteKey;
  readonly description: string;
  readonly body: Readonly<Record<string, unknown>>;
  readonly status: number;
  readonly code: string;
}

const long = (length: number): string => 'x'.repeat(length);
const sandbox = { resourceId: 'sandbox', role: 'operator', durationSeconds: 60, reason: 'fix the build' };
const prodRead = { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'order 1234' };
const prodWrite = { resourceId: 'prod-db', role: 'write', durationSeconds: 600, reason: 'fix order 1234' };

/** Wrong types, missing fields, limits of the wire shapes, and what the policy refuses. */
const SPECIFIC_CASES: readonly SpecificCase[] = [
  // POST /v1/auth/login
  {
    route: 'login',
    description: 'username is a number',
    body: { username: 42, password: 'demo' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'username is empty',
    body: { username: '', password: 'demo' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'username over 64 characters',
    body: { username: long(65), password: 'demo' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'password is missing',
    body: { username: 'alice' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'password is null',
    body: { username: 'alice', password: null },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'password is an array',
    body: { username: 'alice', password: ['demo'] },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'password is empty',
    body: { username: 'alice', password: '' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'otp has five digits',
    body: { username: 'alice', password: 'demo', otp: '12345' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'otp is a number',
    body: { username: 'alice', password: 'demo', otp: 123456 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'otp has letters',
    body: { username: 'alice', password: 'demo', otp: '12a456' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'login',
    description: 'the password is wrong',
    body: { username: 'alice', password: 'not-demo' },
    status: 401,
    code: 'invalid_credentials',
  },
  {
    route: 'login',
    description: 'the user does not exist',
    body: { username: 'mallory', password: 'demo' },
    status: 401,
    code: 'invalid_credentials',
  },

  // POST /v1/requests: wire shape
  {
    route: 'create',
    description: 'durationSeconds is a string',
    body: { ...sandbox, durationSeconds: '60' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is fractional',
    body: { ...sandbox, durationSeconds: 60.5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is zero',
    body: { ...sandbox, durationSeconds: 0 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is negative',
    body: { ...sandbox, durationSeconds: -60 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is 1e300',
    body: { ...sandbox, durationSeconds: 1e300 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is over a year',
    body: { ...sandbox, durationSeconds: 366 * 86_400 + 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is null',
    body: { ...sandbox, durationSeconds: null },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'durationSeconds is missing',
    body: { resourceId: 'sandbox', role: 'operator' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'resourceId is missing',
    body: { role: 'operator', durationSeconds: 60 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'resourceId is a number',
    body: { ...sandbox, resourceId: 7 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'resourceId is empty',
    body: { ...sandbox, resourceId: '' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'resourceId is over 64 characters',
    body: { ...sandbox, resourceId: long(65) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'role is an array',
    body: { ...sandbox, role: ['operator'] },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'reason is a number',
    body: { ...sandbox, reason: 5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'reason is over 1000 characters',
    body: { ...sandbox, reason: long(1001) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'reason holds a NUL character',
    body: { ...sandbox, reason: 'fix\u0000the build' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'reason holds a lone surrogate',
    body: { ...sandbox, reason: 'fix\ud800the build' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'ticket is a number',
    body: { ...sandbox, ticket: 42 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'ticket is over 200 characters',
    body: { ...sandbox, ticket: long(201) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'ticket holds a NUL character',
    body: { ...sandbox, ticket: 'T-1\u0000' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'create',
    description: 'ticket holds a lone surrogate',
    body: { ...sandbox, ticket: 'T-1\ud800' },
    status: 400,
    code: 'invalid_request',
  },

  // POST /v1/requests: what the policy refuses
  {
    route: 'create',
    description: 'an unknown resource',
    body: { ...sandbox, resourceId: 'mainframe' },
    status: 400,
    code: 'unknown_resource',
  },
  {
    route: 'create',
    description: 'an unknown role',
    body: { ...sandbox, role: 'root' },
    status: 400,
    code: 'unknown_role',
  },
  {
    route: 'create',
    description: "another resource's role",
    body: { ...sandbox, role: 'read' },
    status: 400,
    code: 'unknown_role',
  },
  {
    route: 'create',
    description: 'a duration under the minimum (sandbox, 9 s)',
    body: { ...sandbox, durationSeconds: 9 },
    status: 400,
    code: 'duration_out_of_range',
  },
  {
    route: 'create',
    description: 'a duration over the maximum (sandbox, 1 h + 1 s)',
    body: { ...sandbox, durationSeconds: 3601 },
    status: 400,
    code: 'duration_out_of_range',
  },
  {
    route: 'create',
    description: 'a duration under the minimum (prod-db/read, 59 s)',
    body: { ...prodRead, durationSeconds: 59 },
    status: 400,
    code: 'duration_out_of_range',
  },
  {
    route: 'create',
    description: 'a duration over the maximum (prod-db/read, 4 h + 1 s)',
    body: { ...prodRead, durationSeconds: 4 * 3600 + 1 },
    status: 400,
    code: 'duration_out_of_range',
  },
  {
    route: 'create',
    description: 'a duration over the maximum (design-suite, 8 h + 1 s)',
    body: { resourceId: 'design-suite', role: 'seat', durationSeconds: 8 * 3600 + 1 },
    status: 400,
    code: 'duration_out_of_range',
  },
  {
    route: 'create',
    description: 'no reason where one is required',
    body: { resourceId: 'prod-db', role: 'read', durationSeconds: 3600 },
    status: 400,
    code: 'reason_required',
  },
  {
    route: 'create',
    description: 'a blank reason where one is required',
    body: { ...prodRead, reason: ' \t\n ' },
    status: 400,
    code: 'reason_required',
  },
  {
    route: 'create',
    description: 'no ticket where one is required',
    body: prodWrite,
    status: 400,
    code: 'ticket_required',
  },
  {
    route: 'create',
    description: 'a null ticket where one is required',
    body: { ...prodWrite, ticket: null },
    status: 400,
    code: 'ticket_required',
  },
  {
    route: 'create',
    description: 'a blank ticket where one is required',
    body: { ...prodWrite, ticket: '   ' },
    status: 400,
    code: 'ticket_required',
  },
  {
    route: 'create',
    description: 'a ticket from another tracker',
    body: { ...prodWrite, ticket: 'JIRA-1' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'a ticket without a number',
    body: { ...prodWrite, ticket: 'OPS-' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'a ticket in the wrong case',
    body: { ...prodWrite, ticket: 'ops-1' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'a ticket with a prefix',
    body: { ...prodWrite, ticket: 'XOPS-1' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'a ticket with a suffix',
    body: { ...prodWrite, ticket: 'OPS-12x' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'two tickets on two lines',
    body: { ...prodWrite, ticket: 'OPS-1\nOPS-2' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: "another role's ticket pattern (prod-db/owner wants CHG-)",
    body: { resourceId: 'prod-db', role: 'owner', durationSeconds: 600, reason: 'migrate', ticket: 'OPS-1' },
    status: 400,
    code: 'ticket_invalid',
  },
  {
    route: 'create',
    description: 'a ticket outside an alternation (cloud-admin wants INC- or CHG-)',
    body: {
      resourceId: 'cloud-admin',
      role: 'administrator',
      durationSeconds: 600,
      reason: 'incident',
      ticket: 'OPS-1',
    },
    status: 400,
    code: 'ticket_invalid',
  },

  // POST /v1/requests/:id/approve
  {
    route: 'approve',
    description: 'comment is a number',
    body: { comment: 5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'approve',
    description: 'comment is null',
    body: { comment: null },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'approve',
    description: 'comment is over 1000 characters',
    body: { comment: long(1001) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'approve',
    description: 'comment holds a NUL character',
    body: { comment: 'ok\u0000' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'approve',
    description: 'comment holds a lone surrogate',
    body: { comment: 'ok\ud800' },
    status: 400,
    code: 'invalid_request',
  },

  // POST /v1/requests/:id/deny
  { route: 'deny', description: 'no comment', body: {}, status: 400, code: 'invalid_request' },
  {
    route: 'deny',
    description: 'an empty comment',
    body: { comment: '' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'a blank comment',
    body: { comment: '   ' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'a comment of tabs and newlines',
    body: { comment: '\t\n\r\n' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'comment is a number',
    body: { comment: 0 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'comment is null',
    body: { comment: null },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'comment is over 1000 characters',
    body: { comment: long(1001) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'comment holds a NUL character',
    body: { comment: 'no\u0000' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'deny',
    description: 'comment holds a lone surrogate',
    body: { comment: 'no\ud800' },
    status: 400,
    code: 'invalid_request',
  },

  // POST /v1/grants/:id/extend
  {
    route: 'extend',
    description: 'durationSeconds is missing',
    body: { reason: 'more' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is a string',
    body: { durationSeconds: '60' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is zero',
    body: { durationSeconds: 0 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is negative',
    body: { durationSeconds: -60 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is fractional',
    body: { durationSeconds: 1.5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is 1e300',
    body: { durationSeconds: 1e300 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'durationSeconds is over a year',
    body: { durationSeconds: 366 * 86_400 + 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'reason is a number',
    body: { durationSeconds: 60, reason: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'reason is over 1000 characters',
    body: { durationSeconds: 60, reason: long(1001) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'reason holds a NUL character',
    body: { durationSeconds: 60, reason: 'more\u0000' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: 'reason holds a lone surrogate',
    body: { durationSeconds: 60, reason: 'more\ud800' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'extend',
    description: "past the role's maximum (1 h in total)",
    body: { durationSeconds: 3600, reason: 'more' },
    status: 400,
    code: 'extension_exceeds_maximum',
  },

  // POST /v1/grants/:id/revoke
  {
    route: 'revoke',
    description: 'reason is a number',
    body: { reason: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'revoke',
    description: 'reason is null',
    body: { reason: null },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'revoke',
    description: 'reason is over 1000 characters',
    body: { reason: long(1001) },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'revoke',
    description: 'reason holds a NUL character',
    body: { reason: 'done\u0000' },
    status: 400,
    code: 'invalid_request',
  },
  {
    route: 'revoke',
    description: 'reason holds a lone surrogate',
    body: { reason: 'done\ud800' },
    status: 400,
    code: 'invalid_request',
  },
];

const SPECIFIC_TABLE = titled(
  SPECIFIC_CASES,
  ({ route, description, status, code }) => `${ROUTES[route].name}: ${description} → ${status} ${code}`,
);

interface CallCase {
  readonly description: string;
  readonly send: (f: Fixture) => Promise<ApiResponse>;
  readonly status: number;
  readonly code: string;
}

const callTitle = ({ description, status, code }: CallCase): string => `${description} → ${status} ${code}`;

const UNKNOWN_IDS: readonly CallCase[] = [
  {
    description: 'GET /v1/requests/:id, an id never issued',
    send: (f) => f.api.get(`/v1/requests/${UNKNOWN_REQUEST}`, f.alice),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'GET /v1/requests/:id, an id of the wrong shape',
    send: (f) => f.api.get('/v1/requests/nope', f.alice),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'GET /v1/requests/:id, a grant id',
    send: (f) => f.api.get(`/v1/requests/${f.grantId}`, f.alice),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'GET /v1/requests/:id, an id over 64 characters',
    send: (f) => f.api.get(`/v1/requests/${long(65)}`, f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests/:id, an id holding a NUL character',
    send: (f) => f.api.get('/v1/requests/req_%00', f.alice),
    status: 404,
    code: 'request_not_found',
  },
  {
    // Not valid percent-encoding: the router refuses it before any route runs, in the same error shape.
    description: 'GET /v1/requests/:id, an id that is not valid percent-encoding',
    send: (f) => f.api.get('/v1/requests/%FF', f.alice),
    status: 400,
    code: 'bad_request',
  },
  {
    description: "GET /v1/requests/:id, another user's request",
    send: (f) => f.api.get(`/v1/requests/${f.pendingId}`, f.dave),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'approve an unknown request',
    send: (f) => f.api.post(`/v1/requests/${UNKNOWN_REQUEST}/approve`, f.bob, { comment: 'ok' }),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'approve a request id holding a NUL character',
    send: (f) => f.api.post('/v1/requests/req_%00/approve', f.bob, { comment: 'ok' }),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'approve a request one was never asked to decide',
    send: (f) => f.api.post(`/v1/requests/${f.pendingId}/approve`, f.dave, { comment: 'ok' }),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'deny an unknown request',
    send: (f) => f.api.post(`/v1/requests/${UNKNOWN_REQUEST}/deny`, f.bob, { comment: 'no' }),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'cancel an unknown request',
    send: (f) => f.api.post(`/v1/requests/${UNKNOWN_REQUEST}/cancel`, f.alice, {}),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: "cancel another user's request",
    send: (f) => f.api.post(`/v1/requests/${f.pendingId}/cancel`, f.dave, {}),
    status: 404,
    code: 'request_not_found',
  },
  {
    description: 'GET /v1/grants/:id, an id never issued',
    send: (f) => f.api.get(`/v1/grants/${UNKNOWN_GRANT}`, f.alice),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'GET /v1/grants/:id, a request id',
    send: (f) => f.api.get(`/v1/grants/${f.pendingId}`, f.alice),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'GET /v1/grants/:id, an id holding a NUL character',
    send: (f) => f.api.get('/v1/grants/grt_%00', f.alice),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: "GET /v1/grants/:id, another user's grant",
    send: (f) => f.api.get(`/v1/grants/${f.grantId}`, f.dave),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'the credential of an unknown grant',
    send: (f) => f.api.get(`/v1/grants/${UNKNOWN_GRANT}/credential`, f.alice),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: "the credential of another user's grant",
    send: (f) => f.api.get(`/v1/grants/${f.grantId}/credential`, f.dave),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'extend an unknown grant',
    send: (f) => f.api.post(`/v1/grants/${UNKNOWN_GRANT}/extend`, f.alice, { durationSeconds: 60 }),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'extend a grant id holding a NUL character',
    send: (f) => f.api.post('/v1/grants/grt_%00/extend', f.alice, { durationSeconds: 60 }),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: "extend another user's grant",
    send: (f) => f.api.post(`/v1/grants/${f.grantId}/extend`, f.dave, { durationSeconds: 60 }),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: 'revoke an unknown grant',
    send: (f) => f.api.post(`/v1/grants/${UNKNOWN_GRANT}/revoke`, f.admin, {}),
    status: 404,
    code: 'grant_not_found',
  },
  {
    description: "revoke another user's grant without being an administrator",
    send: (f) => f.api.post(`/v1/grants/${f.grantId}/revoke`, f.dave, {}),
    status: 404,
    code: 'grant_not_found',
  },
];

const cursors = {
  garbage: '!!!not-a-cursor!!!',
  notJson: Buffer.from('hello').toString('base64url'),
  object: base64url({ at: '2030-01-07T09:00:00.000Z', id: UNKNOWN_REQUEST }),
  wrongTypes: base64url(['2030-01-07T09:00:00.000Z', 5]),
  notADate: base64url(['yesterday', UNKNOWN_REQUEST]),
  // Dates JavaScript parses but PostgreSQL does not.
  bareNumberDate: base64url(['1', UNKNOWN_REQUEST]),
  farFutureDate: base64url(['+275760-09-13T00:00:00.000Z', UNKNOWN_REQUEST]),
  // PostgreSQL refuses year 0 (a 500 once) and reads 0001 as 2001.
  yearZero: base64url(['0000-01-01T00:00:00.000Z', 'req_00000000000000000000']),
  yearOne: base64url(['0001-01-01T00:00:00.000Z', 'req_00000000000000000000']),
  beforeOurTime: base64url(['1969-12-31T23:59:59.999Z', 'grt_00000000000000000000']),
  nulId: base64url(['2030-01-07T09:00:00.000Z', 'req_\u0000']),
  tooLong: long(201),
};

const QUERY_CASES: readonly CallCase[] = [
  {
    description: 'GET /v1/requests?scope=bogus',
    send: (f) => f.api.get('/v1/requests?scope=bogus', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?scope=all by a non-administrator',
    send: (f) => f.api.get('/v1/requests?scope=all', f.alice),
    status: 403,
    code: 'admin_only',
  },
  {
    description: 'GET /v1/requests?scope given twice',
    send: (f) => f.api.get('/v1/requests?scope=mine&scope=all', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?status=bogus',
    send: (f) => f.api.get('/v1/requests?status=bogus', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?status=pending,bogus',
    send: (f) => f.api.get('/v1/requests?status=pending,bogus', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?limit=0',
    send: (f) => f.api.get('/v1/requests?limit=0', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?limit=-1',
    send: (f) => f.api.get('/v1/requests?limit=-1', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?limit=201',
    send: (f) => f.api.get('/v1/requests?limit=201', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?limit=abc',
    send: (f) => f.api.get('/v1/requests?limit=abc', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests?limit=2.5',
    send: (f) => f.api.get('/v1/requests?limit=2.5', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/requests with an unknown query parameter',
    send: (f) => f.api.get('/v1/requests?sort=asc', f.alice),
    status: 400,
    code: 'unknown_field',
  },
  ...Object.entries(cursors).map(([name, cursor]) => ({
    description: `GET /v1/requests?cursor=<${name}>`,
    send: (f: Fixture) => f.api.get(`/v1/requests?scope=all&cursor=${encodeURIComponent(cursor)}`, f.admin),
    status: 400,
    code: name === 'tooLong' ? 'invalid_request' : 'invalid_cursor',
  })),
  {
    description: 'GET /v1/grants?scope=bogus',
    send: (f) => f.api.get('/v1/grants?scope=bogus', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/grants?scope=all by a non-administrator',
    send: (f) => f.api.get('/v1/grants?scope=all', f.alice),
    status: 403,
    code: 'admin_only',
  },
  {
    description: 'GET /v1/grants?status=expired (active or ended only)',
    send: (f) => f.api.get('/v1/grants?status=expired', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/grants?limit=0',
    send: (f) => f.api.get('/v1/grants?limit=0', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/grants?limit=abc',
    send: (f) => f.api.get('/v1/grants?limit=abc', f.alice),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/grants with an unknown query parameter',
    send: (f) => f.api.get('/v1/grants?user=bob', f.alice),
    status: 400,
    code: 'unknown_field',
  },
  ...Object.entries(cursors).map(([name, cursor]) => ({
    description: `GET /v1/grants?cursor=<${name}>`,
    send: (f: Fixture) => f.api.get(`/v1/grants?scope=all&cursor=${encodeURIComponent(cursor)}`, f.admin),
    status: 400,
    code: name === 'tooLong' ? 'invalid_request' : 'invalid_cursor',
  })),
  {
    description: 'GET /v1/audit?after=-1',
    send: (f) => f.api.get('/v1/audit?after=-1', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?after=abc',
    send: (f) => f.api.get('/v1/audit?after=abc', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?after=1.5',
    send: (f) => f.api.get('/v1/audit?after=1.5', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?after=1e400',
    send: (f) => f.api.get('/v1/audit?after=1e400', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?after=2^64',
    send: (f) => f.api.get('/v1/audit?after=18446744073709551616', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?limit=0',
    send: (f) => f.api.get('/v1/audit?limit=0', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit?limit=1001',
    send: (f) => f.api.get('/v1/audit?limit=1001', f.admin),
    status: 400,
    code: 'invalid_request',
  },
  {
    description: 'GET /v1/audit with an unknown query parameter',
    send: (f) => f.api.get('/v1/audit?before=3', f.admin),
    status: 400,
    code: 'unknown_field',
  },
  {
    description: 'GET /v1/audit by a non-administrator',
    send: (f) => f.api.get('/v1/audit', f.alice),
    status: 403,
    code: 'admin_only',
  },
  {
    description: 'GET /v1/audit/export?format=xml',
    send: (f) => f.api.get('/v1/audit/export?format=xml', f.admin),
    status: 400,
    code: 'invalid_request',
  },
];

const LAST_EVENT_IDS: readonly string[] = ['abc', '-1', '1.5', '1e3', '0x10', '9'.repeat(16), '1 2'];

const MALFORMED_KEYS: readonly { readonly description: string; readonly key: string }[] = [
  { description: 'an empty key', key: '' },
  { description: 'a key with a space', key: 'retry 1' },
  { description: 'a key over 200 characters', key: 'k'.repeat(201) },
  { description: 'a key with a non-ASCII letter', key: 'clé-1' },
];

describe.each(DATABASES)('bad input is refused and changes nothing, over HTTP on %s', (kind) => {
  let fixture: Fixture;

  beforeAll(async () => {
    const running = await startService({ kind });
    const { api } = running;
    const [alice, bob, dave, admin] = await Promise.all(
      ['alice', 'bob', 'dave', 'admin'].map((user) => api.login(user)),
    );
    if (!alice || !bob || !dave || !admin) throw new Error('sign-in failed');
    const pending = await api.post<RequestView>('/v1/requests', alice, prodRead);
    expect(pending.status).toBe(201);
    expect(pending.body.status).toBe('pending');
    const granted = await api.post<RequestView>('/v1/requests', alice, { ...sandbox, durationSeconds: 600 });
    expect(granted.status).toBe(201);
    expect(granted.body.status).toBe('approved');
    fixture = {
      running,
      api,
      alice,
      bob,
      dave,
      admin,
      pendingId: pending.body.id,
      grantId: granted.body.grantId ?? '',
    };
  });
  afterAll(async () => {
    await fixture.running.stop();
  });

  const refusedUnchanged = (send: () => Promise<ApiResponse>, status: number, code: string) =>
    expectRefusedUnchanged(fixture.api, fixture.admin, send, status, code);

  describe('bodies every JSON route refuses', () => {
    it.each(GENERIC_TABLE)('%s', async (_title, { route, rawBody, contentType, status, code }) => {
      const target = ROUTES[route];
      const token = target.token(fixture);
      await refusedUnchanged(
        () =>
          fixture.api.call('POST', target.path(fixture), {
            ...(token === undefined ? {} : { token }),
            rawBody: rawBody(target.valid),
            headers: { 'content-type': contentType },
          }),
        status,
        code,
      );
    });

    it.each(['POST /v1/requests', 'POST /v1/auth/login'])(
      '%s: a JSON body sent without any Content-Type → 415',
      async (name) => {
        const route = name === 'POST /v1/requests' ? ROUTES.create : ROUTES.login;
        const token = route.token(fixture);
        await refusedUnchanged(
          () =>
            rawCall(
              fixture.running.url,
              'POST',
              route.path(fixture),
              token === undefined ? {} : { authorization: `Bearer ${token}` },
              JSON.stringify(route.valid),
            ),
          415,
          'unsupported_media_type',
        );
      },
    );
  });

  describe('wrong types, missing fields, limits and policy', () => {
    it.each(SPECIFIC_TABLE)('%s', async (_title, { route, body, status, code }) => {
      const target = ROUTES[route];
      await refusedUnchanged(
        () => fixture.api.post(target.path(fixture), target.token(fixture), body),
        status,
        code,
      );
    });

    it('says which field is wrong and why', async () => {
      const response = await fixture.api.post('/v1/requests', fixture.alice, {
        ...sandbox,
        durationSeconds: 'soon',
      });
      expectRefusal(response, 400, 'invalid_request');
      const { error } = errorShape.parse(response.body);
      expect(error.message).toContain('durationSeconds');
      const unknown = await fixture.api.post('/v1/requests', fixture.alice, { ...sandbox, approver: 'bob' });
      expectRefusal(unknown, 400, 'unknown_field');
      expect(errorShape.parse(unknown.body).error.message).toContain('approver');
      const denial = await fixture.api.post(`/v1/requests/${fixture.pendingId}/deny`, fixture.bob, {
        comment: ' ',
      });
      expectRefusal(denial, 400, 'invalid_request');
      expect(errorShape.parse(denial.body).error.message).toMatch(/comment/i);
      const ticket = await fixture.api.post('/v1/requests', fixture.alice, {
        ...prodWrite,
        ticket: 'JIRA-1',
      });
      expectRefusal(ticket, 400, 'ticket_invalid');
      expect(errorShape.parse(ticket.body).error.message).toContain('OPS-[0-9]+');
      const duration = await fixture.api.post('/v1/requests', fixture.alice, {
        ...sandbox,
        durationSeconds: 3601,
      });
      expectRefusal(duration, 400, 'duration_out_of_range');
      expect(errorShape.parse(duration.body).error.details).toMatchObject({
        minDurationSeconds: 10,
        maxDurationSeconds: 3600,
      });
    });
  });

  describe('unknown ids', () => {
    it.each(titled(UNKNOWN_IDS, callTitle))('%s', async (_title, { send, status, code }) => {
      await refusedUnchanged(() => send(fixture), status, code);
    });
  });

  describe('bad query parameters', () => {
    it.each(titled(QUERY_CASES, callTitle))('%s', async (_title, { send, status, code }) => {
      await refusedUnchanged(() => send(fixture), status, code);
    });
  });

  describe('bad headers', () => {
    it.each(LAST_EVENT_IDS)(
      'GET /v1/events with Last-Event-ID %j → 400 invalid_last_event_id',
      async (lastEventId) => {
        await refusedUnchanged(
          () =>
            openEvents(fixture.running.url, {
              authorization: `Bearer ${fixture.alice}`,
              'last-event-id': lastEventId,
            }),
          400,
          'invalid_last_event_id',
        );
      },
    );

    it('GET /v1/events with Last-Event-ID sent twice → 400 invalid_last_event_id', async () => {
      await refusedUnchanged(
        () =>
          rawCall(fixture.running.url, 'GET', '/v1/events', {
            authorization: `Bearer ${fixture.alice}`,
            accept: 'text/event-stream',
            'last-event-id': ['1', '2'],
          }),
        400,
        'invalid_last_event_id',
      );
    });

    it.each(titled(MALFORMED_KEYS, ({ description }) => description))(
      'POST /v1/requests with %s as Idempotency-Key → 400 invalid_idempotency_key',
      async (_title, { key }) => {
        await refusedUnchanged(
          () => fixture.api.post('/v1/requests', fixture.alice, sandbox, { 'idempotency-key': key }),
          400,
          'invalid_idempotency_key',
        );
      },
    );

    it.each(titled(MALFORMED_KEYS, ({ description }) => description))(
      'POST /v1/grants/:id/extend with %s as Idempotency-Key → 400 invalid_idempotency_key',
      async (_title, { key }) => {
        await refusedUnchanged(
          () =>
            fixture.api.post(
              `/v1/grants/${fixture.grantId}/extend`,
              fixture.alice,
              { durationSeconds: 60 },
              { 'idempotency-key': key },
            ),
          400,
          'invalid_idempotency_key',
        );
      },
    );

    it.each([
      ['POST /v1/requests', '/v1/requests', () => sandbox],
      ['POST /v1/grants/:id/extend', 'extend', () => ({ durationSeconds: 60 })],
    ] as const)(
      '%s with Idempotency-Key sent twice → 400 invalid_idempotency_key',
      async (_name, target, body) => {
        const path = target === 'extend' ? `/v1/grants/${fixture.grantId}/extend` : target;
        await refusedUnchanged(
          () =>
            rawCall(
              fixture.running.url,
              'POST',
              path,
              {
                authorization: `Bearer ${fixture.alice}`,
                'content-type': 'application/json',
                'idempotency-key': ['first-key', 'second-key'],
              },
              JSON.stringify(body()),
            ),
          400,
          'invalid_idempotency_key',
        );
      },
    );

    it('an Idempotency-Key reused with a different body → 422 idempotency_key_reused; the same body replays', async () => {
      const { api, alice } = fixture;
      const key = 'bad-input-reuse-1';
      const first = await api.post<RequestView>('/v1/requests', alice, sandbox, { 'idempotency-key': key });
      expect(first.status).toBe(201);

      await refusedUnchanged(
        () =>
          api.post('/v1/requests', alice, { ...sandbox, durationSeconds: 120 }, { 'idempotency-key': key }),
        422,
        'idempotency_key_reused',
      );
      await refusedUnchanged(
        () =>
          api.post(
            '/v1/requests',
            alice,
            { ...sandbox, reason: 'another reason' },
            { 'idempotency-key': key },
          ),
        422,
        'idempotency_key_reused',
      );
      // The same key on another route is a different request too.
      await refusedUnchanged(
        () =>
          api.post(
            `/v1/grants/${fixture.grantId}/extend`,
            alice,
            { durationSeconds: 60 },
            { 'idempotency-key': key },
          ),
        422,
        'idempotency_key_reused',
      );

      // The same body is a retry: the first answer again, and nothing new.
      const before = await snapshot(api, fixture.admin);
      const retry = await api.post<RequestView>('/v1/requests', alice, sandbox, { 'idempotency-key': key });
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(await snapshot(api, fixture.admin)).toEqual(before);
    });

    it('an extension Idempotency-Key reused with a different duration → 422 idempotency_key_reused', async () => {
      const { api, alice } = fixture;
      const key = 'bad-input-reuse-2';
      const path = `/v1/grants/${fixture.grantId}/extend`;
      const first = await api.post<GrantView>(
        path,
        alice,
        { durationSeconds: 30 },
        { 'idempotency-key': key },
      );
      expect(first.status).toBe(200);
      await refusedUnchanged(
        () => api.post(path, alice, { durationSeconds: 31 }, { 'idempotency-key': key }),
        422,
        'idempotency_key_reused',
      );
    });
  });

  describe('bodies the contract makes optional', () => {
    // Not bad input: `cancel` takes no body, `approve` and `revoke` take optional ones. A client that sends
    // none (curl -X POST) must be served, or the refusals above would be refusing good calls too.
    it('POST /v1/requests/:id/cancel with no body at all → 200 cancelled', async () => {
      const { api, dave } = fixture;
      const created = await api.post<RequestView>('/v1/requests', dave, prodRead);
      expect(created.status).toBe(201);
      const cancelled = await api.post<RequestView>(`/v1/requests/${created.body.id}/cancel`, dave);
      expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
      expect(cancelled.body.status).toBe('cancelled');
    });

    it('POST /v1/requests/:id/approve with no body at all → 200 approved', async () => {
      const { api, dave, bob } = fixture;
      const created = await api.post<RequestView>('/v1/requests', dave, { ...prodWrite, ticket: 'OPS-7' });
      expect(created.status).toBe(201);
      const approved = await api.post<RequestView>(`/v1/requests/${created.body.id}/approve`, bob);
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
      expect(approved.body.status).toBe('approved');
    });

    it('POST /v1/grants/:id/revoke with no body at all → 200 revoked', async () => {
      const { api, alice } = fixture;
      const created = await api.post<RequestView>('/v1/requests', alice, sandbox);
      expect(created.status).toBe(201);
      const revoked = await api.post<GrantView>(`/v1/grants/${created.body.grantId ?? ''}/revoke`, alice);
      expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
      expect(revoked.body.status).toBe('revoked');
    });
  });
});

interface TokenFixture {
  readonly running: RunningService;
  readonly api: Api;
  readonly admin: string;
  readonly alice: string;
  readonly pendingId: string;
  readonly grantId: string;
}

interface TokenRoute {
  readonly name: string;
  /** Calls the route with a good request and the given Authorization header (none when undefined). */
  readonly send: (f: TokenFixture, authorization: string | undefined) => Promise<ApiResponse>;
}

const auth = (authorization: string | undefined): Record<string, string> =>
  authorization === undefined ? {} : { authorization };

/** Good calls that would change something, or reveal something, with a working token. */
const TOKEN_ROUTES: readonly TokenRoute[] = [
  { name: 'GET /v1/me', send: (f, a) => f.api.call('GET', '/v1/me', { headers: auth(a) }) },
  { name: 'GET /v1/requests', send: (f, a) => f.api.call('GET', '/v1/requests', { headers: auth(a) }) },
  {
    name: 'POST /v1/requests',
    send: (f, a) => f.api.call('POST', '/v1/requests', { headers: auth(a), body: sandbox }),
  },
  {
    name: 'POST /v1/requests/:id/cancel',
    send: (f, a) => f.api.call('POST', `/v1/requests/${f.pendingId}/cancel`, { headers: auth(a), body: {} }),
  },
  {
    name: 'GET /v1/grants/:id/credential',
    send: (f, a) => f.api.call('GET', `/v1/grants/${f.grantId}/credential`, { headers: auth(a) }),
  },
  {
    name: 'POST /v1/grants/:id/extend',
    send: (f, a) =>
      f.api.call('POST', `/v1/grants/${f.grantId}/extend`, {
        headers: auth(a),
        body: { durationSeconds: 60 },
      }),
  },
  {
    name: 'POST /v1/grants/:id/revoke',
    send: (f, a) => f.api.call('POST', `/v1/grants/${f.grantId}/revoke`, { headers: auth(a), body: {} }),
  },
  {
    name: 'POST /v1/auth/logout',
    send: (f, a) => f.api.call('POST', '/v1/auth/logout', { headers: auth(a) }),
  },
  { name: 'GET /v1/events', send: (f, a) => openEvents(f.running.url, auth(a)) },
];

describe.each(DATABASES)('tokens that do not sign in, over HTTP on %s', (kind) => {
  let fixture: TokenFixture;
  let revoked: string;

  /** A pending request and an active grant of alice's, which a token that worked could act on. */
  async function aliceFixture(running: RunningService, admin: string): Promise<TokenFixture> {
    const { api } = running;
    const alice = await api.login('alice');
    const pending = await api.post<RequestView>('/v1/requests', alice, prodRead);
    expect(pending.status).toBe(201);
    const granted = await api.post<RequestView>('/v1/requests', alice, { ...sandbox, durationSeconds: 3600 });
    expect(granted.status).toBe(201);
    return { running, api, admin, alice, pendingId: pending.body.id, grantId: granted.body.grantId ?? '' };
  }

  beforeAll(async () => {
    const running = await startService({ kind });
    fixture = await aliceFixture(running, await running.api.login('admin'));
    revoked = await running.api.login('alice');
    const logout = await running.api.post('/v1/auth/logout', revoked);
    expect(logout.status).toBe(204);
  });
  afterAll(async () => {
    await fixture.running.stop();
  });

  const HEADERS: readonly { description: string; header: string | undefined; code: string }[] = [
    { description: 'no Authorization header', header: undefined, code: 'missing_token' },
    { description: 'an empty Bearer', header: 'Bearer ', code: 'missing_token' },
    {
      description: 'Basic credentials instead of a token',
      header: 'Basic YWxpY2U6ZGVtbw==',
      code: 'missing_token',
    },
    {
      description: 'a well-formed token never issued',
      header: `Bearer tbx_${'A'.repeat(43)}`,
      code: 'invalid_token',
    },
    { description: 'a garbage token', header: 'Bearer this-is-not-a-token!', code: 'invalid_token' },
  ];

  const TABLE = titled(
    TOKEN_ROUTES.flatMap((route) => HEADERS.map((header) => ({ ...header, route }))),
    ({ route, description, code }) => `${route.name} with ${description} → 401 ${code}`,
  );

  it.each(TABLE)('%s', async (_title, { route, header, code }) => {
    await expectRefusedUnchanged(fixture.api, fixture.admin, () => route.send(fixture, header), 401, code);
  });

  it.each(titled(TOKEN_ROUTES, ({ name }) => name))(
    '%s with a signed-out token → 401 token_revoked',
    async (_title, route) => {
      await expectRefusedUnchanged(
        fixture.api,
        fixture.admin,
        () => route.send(fixture, `Bearer ${revoked}`),
        401,
        'token_revoked',
      );
    },
  );

  describe('after the 8 h token lifetime', () => {
    let expired: TokenFixture;

    beforeAll(async () => {
      const { running } = fixture;
      // The token works until its last second…
      await running.advance(8 * 3600 * 1000 - 1000);
      const me = await running.api.get('/v1/me', fixture.alice);
      expect(me.status).toBe(200);
      // …and not from its expiry on. A fresh administrator and fresh targets for the old token.
      await running.advance(1000);
      const admin = await running.api.login('admin');
      const fresh = await aliceFixture(running, admin);
      expired = { ...fresh, alice: fixture.alice };
    });

    it.each(titled(TOKEN_ROUTES, ({ name }) => name))(
      '%s with an expired token → 401 token_expired',
      async (_title, route) => {
        await expectRefusedUnchanged(
          expired.api,
          expired.admin,
          () => route.send(expired, `Bearer ${expired.alice}`),
          401,
          'token_expired',
        );
      },
    );
  });
});
