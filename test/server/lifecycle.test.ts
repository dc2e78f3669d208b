import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { DATABASES } from '../support/databases.js';
import { startService, type RunningService } from '../support/service.js';
import { EventStream } from '../support/sse.js';

describe.each(DATABASES)('request to grant to expiry, over HTTP on %s', (kind) => {
  let running: RunningService;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    running = await startService({ kind });
    [alice, bob] = await Promise.all([running.api.login('alice'), running.api.login('bob')]);
  });
  afterAll(async () => {
    await running.stop();
  });

  it('grants an auto-approved role at once and serves a JWT verifiable through the JWKS', async () => {
    const { api, clock } = running;
    const created = await api.post<RequestView>('/v1/requests', alice, {
      resourceId: 'sandbox',
      role: 'operator',
      durationSeconds: 60,
      reason: 'try it',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: 'approved',
      requesterId: 'alice',
      resourceId: 'sandbox',
      role: 'operator',
    });
    const grantId = created.body.grantId ?? '';
    const grant = await api.get<GrantView>(`/v1/grants/${grantId}`, alice);
    expect(grant.body).toMatchObject({
      status: 'active',
      userId: 'alice',
      expiresAt: new Date(clock.now() + 60_000).toISOString(),
    });

    const credential = await api.get<{ kind: string; secret: { token: string }; expiresAt: string }>(
      `/v1/grants/${grantId}/credential`,
      alice,
    );
    expect(credential.status).toBe(200);
    expect(credential.headers.get('cache-control')).toBe('no-store');
    expect(credential.body.kind).toBe('token');
    const jwks = await api.get<JSONWebKeySet>('/.well-known/jwks.json');
    const { payload, protectedHeader } = await jwtVerify(
      credential.body.secret.token,
      createLocalJWKSet(jwks.body),
      {
        issuer: running.url,
        audience: 'sandbox',
        currentDate: new Date(clock.now()),
      },
    );
    expect(protectedHeader.alg).toBe('EdDSA');
    expect(payload).toMatchObject({
      sub: 'alice',
      scope: 'operator',
      jti: grantId,
      exp: Math.floor((clock.now() + 60_000) / 1000),
    });

    await running.advance(60_000);
    const ended = await api.get<GrantView>(`/v1/grants/${grantId}`, alice);
    expect(ended.body).toMatchObject({
      status: 'expired',
      endReason: 'expired',
      endedAt: ended.body.expiresAt,
    });
    const gone = await api.get<{ error: { code: string } }>(`/v1/grants/${grantId}/credential`, alice);
    expect(gone.status).toBe(410);
    expect(gone.body.error.code).toBe('grant_ended');
  });

  it('routes a production role to the team lead, who approves it from the inbox', async () => {
    const { api, url } = running;
    const aliceEvents = await EventStream.open(url, alice);
    const bobEvents = await EventStream.open(url, bob);
    try {
      const created = await api.post<RequestView>('/v1/requests', alice, {
        resourceId: 'prod-db',
        role: 'read',
        durationSeconds: 3600,
        reason: 'investigate order 1234',
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        status: 'pending',
        waitingFor: ['bob'],
        stage: { index: 0, name: 'approval' },
      });
      const needed = await bobEvents.next('approval.needed');
      expect(needed).toMatchObject({ id: created.body.id });

      const inbox = await api.get<{ items: RequestView[] }>('/v1/requests?scope=approvable', bob);
      expect(inbox.body.items.map((item) => item.id)).toContain(created.body.id);

      const approved = await api.post<RequestView>(`/v1/requests/${created.body.id}/approve`, bob, {
        comment: 'ok',
      });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({
        status: 'approved',
        decisions: [{ approverId: 'bob', decision: 'approve', comment: 'ok' }],
      });
      const activated = (await aliceEvents.next(
        'grant.activated',
        (data) => (data as GrantView).requestId === created.body.id,
      )) as GrantView;
      expect(activated.status).toBe('active');
      await aliceEvents.next('request.updated', (data) => (data as RequestView).status === 'approved');
    } finally {
      aliceEvents.close();
      bobEvents.close();
    }
  });
});
