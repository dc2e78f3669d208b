import type { z } from 'zod';
import type { IssuerRegistry } from '../credentials/issuer.js';
import type { extendBody, GrantView, grantListQuery, RequestView } from '../../api/schemas.js';
import type { Clock } from '../../api/clock.js';
import { ApiError, badRequest, conflict, forbidden, notFound } from '../lib/errors.js';
import { formatDuration } from '../../api/duration.js';
import { extensionHeadroomSeconds, mayRequest } from '../policy/engine.js';
import type { PolicyUser } from '../policy/types.js';
import { endGrant, viewRequest } from './activation.js';
import { openRequest } from './approval-flow.js';
import { roleOf, type Domain } from './context.js';
import { once, type StoredResponse } from './idempotency.js';
import type { GrantRecord } from './records.js';
import { auditWhileGrantLive, findGrant, findRequest, listPage } from './store.js';
import { toGrantView } from './views.js';

export interface CredentialResponse {
  readonly grantId: string;
  readonly kind: string;
  readonly expiresAt: string;
  readonly secret: Record<string, unknown>;
}

/** Grants as the API offers them: reading, credentials, extension, relinquish and revoke. */
export class Grants {
  constructor(
    private readonly domain: Domain,
    private readonly issuers: IssuerRegistry,
    private readonly clock: Clock,
  ) {}

  async get(actor: PolicyUser, id: string): Promise<GrantView> {
    return toGrantView(this.domain.policy, await this.visibleGrant(actor, id));
  }

  async list(
    actor: PolicyUser,
    query: z.output<typeof grantListQuery>,
  ): Promise<{ items: GrantView[]; next: string | null }> {
    if (query.scope === 'all' && !actor.isAdmin)
      throw forbidden('admin_only', 'Only administrators may list every grant.');
    const { items, next } = await listPage(this.domain.db, 'grants', query, (param) => {
      const conditions: string[] = [];
      if (query.scope === 'mine') conditions.push(`user_id = ${param(actor.id)}`);
      if (query.status === 'active') conditions.push(`status = 'active'`);
      if (query.status === 'ended') conditions.push(`status IN ('expired', 'revoked')`);
      return conditions;
    });
    return { items: items.map((row) => toGrantView(this.domain.policy, row)), next };
  }

  /** The owner's credential while the grant is active; every fetch is audited. */
  async credential(actor: PolicyUser, id: string): Promise<CredentialResponse> {
    const grant = await this.ownGrant(actor, id, 'fetch its credential');
    this.assertLive(grant);
    const issuer = this.issuers.forResource(grant.resource_id);
    const issued = await issuer.issue(grant);
    // The audit entry is recorded only if the grant is still live, so no credential leaves unrecorded or
    // late. The credential is made first, outside any lock, so a slow issuer holds none.
    const recorded = await this.domain.uow.runStatement((sql, now) =>
      auditWhileGrantLive(sql, id, now, {
        actorId: actor.id,
        action: 'credential.fetched',
        subjectType: 'grant',
        subjectId: id,
        data: { kind: issuer.kind },
      }),
    );
    if (!recorded.audited) {
      if (!recorded.grant) throw notFound('grant', id);
      // The grant ended while its credential was being made, so its access may have been made again after
      // the revocation: revoke once more. The credential itself is never handed out; the owner hears 410.
      if (issuer.access) {
        await this.domain.uow.run(async (work) => {
          const current = await findGrant(work.sql, id, 'lock');
          if (current) await this.domain.access.want(work, current, 'absent');
        });
      }
      throw this.ended(recorded.grant);
    }
    this.domain.metrics.credentialsIssued.inc({ kind: issuer.kind });
    return {
      grantId: grant.id,
      kind: issuer.kind,
      expiresAt: issued.expiresAt.toISOString(),
      secret: issued.secret,
    };
  }

  /**
   * More time on an active grant, through the same policy as the original request: at once when the role
   * is auto-approved (200 Grant), otherwise an extension request for the approvers (202 Request).
   */
  async extend(
    actor: PolicyUser,
    id: string,
    body: z.output<typeof extendBody>,
    idempotencyKey: string | null,
    clientAddress: string | null,
  ): Promise<StoredResponse<200, GrantView> | StoredResponse<202, RequestView>> {
    await this.ownGrant(actor, id, 'extend it');
    return this.domain.uow.run((work) =>
      once<StoredResponse<200, GrantView> | StoredResponse<202, RequestView>>(
        work,
        actor.id,
        idempotencyKey,
        { route: `POST /v1/grants/${id}/extend`, body },
        async () => {
          const grant = await findGrant(work.sql, id, 'lock');
          if (!grant) throw notFound('grant', id);
          if (grant.status !== 'active' || grant.expires_at.getTime() <= work.now) {
            throw conflict(
              'illegal_transition',
              `Grant ${id} has ended, so it cannot be extended; request access again.`,
              {
                status: grant.status,
              },
            );
          }
          const role = roleOf(this.domain.policy, grant);
          if (!mayRequest(actor, role)) {
            throw forbidden(
              'not_allowed_to_request',
              `You may no longer request ${grant.resource_id}/${grant.role}, so you cannot extend it.`,
            );
          }
          const headroom = extensionHeadroomSeconds(
            role,
            grant.starts_at.getTime(),
            grant.expires_at.getTime(),
          );
          if (body.durationSeconds > headroom) {
            throw badRequest(
              'extension_exceeds_maximum',
              headroom === 0
                ? `Grant ${id} already lasts the longest its role allows (${formatDuration(role.maxDurationSeconds)}); request access again later.`
                : `Extend grant ${id} by at most ${formatDuration(headroom)}: its role allows ${formatDuration(role.maxDurationSeconds)} in total.`,
              { maxExtensionSeconds: headroom },
            );
          }
          const reason = body.reason.trim();
          if (role.reasonRequired && reason === '') {
            throw badRequest(
              'reason_required',
              `Give a reason: ${grant.resource_id}/${grant.role} requires one.`,
            );
          }
          const [pending] = await work.sql.query<{ id: string }>(
            `SELECT id FROM requests WHERE extends_grant_id = $1 AND status = 'pending' LIMIT 1`,
            [id],
          );
          if (pending) {
            throw conflict(
              'extension_already_pending',
              `Extension request ${pending.id} for this grant is still waiting for a decision.`,
              {
                requestId: pending.id,
              },
            );
          }
          const original = await findRequest(work.sql, grant.request_id);
          const request = await openRequest(this.domain, work, {
            requester: actor,
            resourceId: grant.resource_id,
            role,
            kind: 'extension',
            extendsGrantId: grant.id,
            durationSeconds: body.durationSeconds,
            reason,
            ticket: original?.ticket ?? null,
            clientAddress,
          });
          if (request.status === 'approved') {
            const extended = await findGrant(work.sql, id);
            if (!extended) throw notFound('grant', id);
            return { statusCode: 200 as const, body: toGrantView(this.domain.policy, extended) };
          }
          return { statusCode: 202 as const, body: await viewRequest(this.domain, work.sql, request) };
        },
      ),
    );
  }

  /** The owner relinquishes; an administrator revokes anyone's grant. */
  revoke(actor: PolicyUser, id: string, reason: string | null): Promise<GrantView> {
    return this.domain.uow.run(async (work) => {
      const grant = await findGrant(work.sql, id, 'lock');
      if (!grant || !this.visible(actor, grant)) throw notFound('grant', id);
      // Past its expiry the grant has already ended by time; the expiry engine just has not recorded it
      // yet. Record it as expired, which is what happened, rather than as a revocation.
      const ended =
        grant.status === 'active' && grant.expires_at.getTime() <= work.now
          ? await endGrant(this.domain, work, grant, 'expired', null, null)
          : await endGrant(
              this.domain,
              work,
              grant,
              grant.user_id === actor.id ? 'relinquished' : 'revoked',
              actor.id,
              reason,
            );
      return toGrantView(this.domain.policy, ended);
    });
  }

  private assertLive(grant: GrantRecord): void {
    if (grant.status !== 'active' || grant.expires_at.getTime() <= this.clock.now()) throw this.ended(grant);
  }

  private ended(grant: GrantRecord): ApiError {
    return new ApiError(
      410,
      'grant_ended',
      `Grant ${grant.id} has ended; its credential is gone. Request access again.`,
      { status: grant.status, expiresAt: grant.expires_at.toISOString() },
    );
  }

  private visible(actor: PolicyUser, grant: GrantRecord): boolean {
    return actor.isAdmin || grant.user_id === actor.id;
  }

  private async visibleGrant(actor: PolicyUser, id: string): Promise<GrantRecord> {
    const grant = await findGrant(this.domain.db, id);
    if (!grant || !this.visible(actor, grant)) throw notFound('grant', id);
    return grant;
  }

  private async ownGrant(actor: PolicyUser, id: string, action: string): Promise<GrantRecord> {
    const grant = await this.visibleGrant(actor, id);
    if (grant.user_id !== actor.id)
      throw forbidden('not_grant_owner', `Only the grant's owner can ${action}.`);
    return grant;
  }
}
