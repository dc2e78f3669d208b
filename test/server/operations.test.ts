import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestView } from '../../api/schemas.js';
import { Housekeeping, RETENTION } from '../../server/ops/housekeeping.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';

describe.each(DATABASES)('operations endpoints on %s', (kind) => {
  let running: RunningService;
  let alice: string;

  beforeAll(async () => {
    running = await startService({ kind });
    alice = await running.api.login('alice');
  });
  afterAll(async () => {
    await running.stop();
  });

  it('reports health with the database kind and version', async () => {
    const health = await running.api.get('/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, db: kind, version: '0.1.0' });
  });

  it('stamps every answer with the service clock, which clients use to correct countdowns', async () => {
    const response = await running.api.get('/healthz');
    expect(response.headers.get('date')).toBe(new Date(running.clock.now()).toUTCString());
  });

  it('exposes Prometheus metrics: requests, active grants, pending requests, revocation lag', async () => {
    await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 600,
      reason: 'm',
    });
    await running.api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'prod-db',
      role: 'read',
      durationSeconds: 600,
      reason: 'm',
    });
    const metrics = await running.api.get<string>('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    const text = metrics.body;
    expect(text).toMatch(/^timebox_active_grants 1$/m);
    expect(text).toMatch(/^timebox_pending_requests\{status="pending"\} 1$/m);
    expect(text).toMatch(/^timebox_pending_requests\{status="queued"\} 0$/m);
    expect(text).toMatch(
      /^timebox_http_requests_total\{method="POST",route="\/v1\/requests",status="201"\} 2$/m,
    );
    expect(text).toContain('# TYPE timebox_revocation_lag_seconds histogram');
    expect(text).toContain('timebox_http_request_duration_seconds_bucket');
  });

  it('publishes the OpenAPI document with every route of the contract', async () => {
    const { status, body } = await running.api.get<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: { schemas: Record<string, unknown> };
    }>('/openapi.json');
    expect(status).toBe(200);
    expect(body.openapi).toBe('3.1.0');
    const routes = Object.entries(body.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual(
      [
        'POST /v1/auth/login',
        'POST /v1/auth/logout',
        'GET /v1/auth/methods',
        'GET /v1/auth/oidc/{provider}/start',
        'GET /v1/auth/oidc/{provider}/callback',
        'POST /v1/auth/oidc/token',
        'GET /v1/me',
        'GET /v1/sessions',
        'POST /v1/sessions/{id}/end',
        'GET /v1/resources',
        'POST /v1/requests',
        'POST /v1/requests/preview',
        'GET /v1/requests',
        'GET /v1/requests/{id}',
        'POST /v1/requests/{id}/approve',
        'POST /v1/requests/{id}/deny',
        'POST /v1/requests/{id}/cancel',
        'GET /v1/grants',
        'GET /v1/grants/{id}',
        'GET /v1/grants/{id}/credential',
        'POST /v1/grants/{id}/extend',
        'POST /v1/grants/{id}/revoke',
        'POST /v1/credentials/introspect',
        'GET /v1/events',
        'GET /v1/admin/deliveries',
        'POST /v1/admin/deliveries/{id}/retry',
        'GET /v1/audit',
        'GET /v1/audit/verify',
        'GET /v1/audit/export',
        'GET /v1/seat-pools/utilization',
        'GET /v1/insights/roles',
        'GET /v1/insights/recommendations',
        'GET /v1/insights/seats',
        'GET /v1/reports/access-review',
        'GET /.well-known/jwks.json',
        'GET /healthz',
        'GET /metrics',
      ].sort(),
    );
    // The headers the contract relies on are documented where they apply.
    const headersOf = (path: string, method: string): unknown[] =>
      (
        (body.paths[path]?.[method] as { parameters?: { in: string; name: string }[] } | undefined)
          ?.parameters ?? []
      )
        .filter((parameter) => parameter.in === 'header')
        .map((parameter) => parameter.name);
    expect(headersOf('/v1/requests', 'post')).toEqual(['idempotency-key']);
    expect(headersOf('/v1/grants/{id}/extend', 'post')).toEqual(['idempotency-key']);
    expect(headersOf('/v1/events', 'get')).toEqual(['last-event-id']);
    expect(Object.keys(body.components.schemas)).toEqual(
      expect.arrayContaining([
        'Request',
        'Grant',
        'Resource',
        'Error',
        'Credential',
        'AuditEntry',
        'SeatPoolReport',
      ]),
    );
  });

  it('deletes transient rows past their retention, and keeps history', async () => {
    const { api, clock, service } = running;
    const dave = await api.login('dave');
    const body = { resourceId: 'sandbox', role: 'operator', durationSeconds: 60, reason: 'retention' };
    const first = await api.post<RequestView>('/v1/requests', dave, body, {
      'idempotency-key': 'retention-1',
    });
    const startedAt = clock.now();
    const countRows = async (table: string, column: string, before: number): Promise<number> =>
      (
        await service.db.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM ${table} WHERE ${column} <= $1`,
          [new Date(before)],
        )
      )[0]?.count ?? -1;
    expect(await countRows('events', 'created_at', startedAt)).toBeGreaterThan(0);
    expect(await countRows('idempotency_keys', 'created_at', startedAt)).toBe(1);

    await running.advance(RETENTION.eventsMs + 60_000); // dave's session (8 h) has long ended too
    await new Housekeeping(service.db, clock, (error) => {
      throw error;
    }).sweep();
    expect(await countRows('events', 'created_at', startedAt)).toBe(0);
    expect(await countRows('events', 'created_at', clock.now())).toBeGreaterThan(0); // the expiry just now is kept
    expect(await countRows('idempotency_keys', 'created_at', startedAt)).toBe(0);
    expect(await countRows('sessions', 'created_at', startedAt)).toBe(0);
    expect((await api.get(`/v1/me`, dave)).status).toBe(401);
    const admin = await api.login('admin');
    expect((await api.get<RequestView>(`/v1/requests/${first.body.id}`, admin)).body.status).toBe('approved');
    expect((await api.get<{ ok: boolean }>('/v1/audit/verify', admin)).body.ok).toBe(true);
  });

  it('answers an unknown route with the error shape', async () => {
    const response = await running.api.get<{ error: { code: string; message: string } }>(
      '/v1/nothing-here',
      alice,
    );
    expect(response.status).toBe(404);
    expect(response.body.error).toEqual({
      code: 'route_not_found',
      message: 'There is no route GET /v1/nothing-here; see /openapi.json.',
    });
  });
});
