import type { z } from 'zod';
import { violatesUnique, type Sql } from '../db/database.js';
import type {
  createRequestBody,
  RequestPreviewView,
  RequestView,
  requestListQuery,
} from '../../api/schemas.js';
import { badRequest, conflict, forbidden, notFound } from '../lib/errors.js';
import { checkRequestInput, mayRequest } from '../policy/engine.js';
import type { PolicyUser } from '../policy/types.js';
import { viewRequest } from './activation.js';
import { cancel, decide, openRequest, reconsider } from './approval-flow.js';
import type { Work } from './work.js';
import type { Domain } from './context.js';
import { once, type StoredResponse } from './idempotency.js';
import { previewRequest } from './preview.js';
import type { RequestRecord } from './records.js';
import { findOpenRequest, findRequest, listPage, OpenRequestExists, queuePositions } from './store.js';
import { toRequestView } from './views.js';

/** Requests as the API offers them: who may see and do what, then the approval flow. */
export class Requests {
  constructor(private readonly domain: Domain) {}

  async create(
    actor: PolicyUser,
    body: z.output<typeof createRequestBody>,
    idempotencyKey: string | null,
    clientAddress: string | null,
  ): Promise<StoredResponse<201, RequestView>> {
    const resource = this.domain.policy.resources.get(body.resourceId);
    if (!resource) {
      throw badRequest(
        'unknown_resource',
        `There is no resource "${body.resourceId}"; GET /v1/resources lists them.`,
      );
    }
    const role = resource.roles.get(body.role);
    if (!role) {
      throw badRequest(
        'unknown_role',
        `${resource.name} has no role "${body.role}"; it has ${[...resource.roles.keys()].join(', ')}.`,
        {
          roles: [...resource.roles.keys()],
        },
      );
    }
    if (!mayRequest(actor, role)) {
      throw forbidden(
        'not_allowed_to_request',
        `Only members of ${role.requesterGroups.join(', ')} may request ${resource.id}/${role.name}.`,
      );
    }
    const ticket = body.ticket?.trim() ? body.ticket.trim() : null;
    const reason = body.reason.trim();
    checkRequestInput(resource.id, role, { durationSeconds: body.durationSeconds, reason, ticket });

    const alreadyOpen = (requestId: string) =>
      conflict(
        'request_already_pending',
        `You already have request ${requestId} open for ${resource.id}/${role.name}; cancel it or wait for its decision.`,
        {
          requestId,
        },
      );
    try {
      return await this.domain.uow.run((work) =>
        once(work, actor.id, idempotencyKey, { route: 'POST /v1/requests', body }, async () => {
          // The request's insert refuses it if one is open already (OpenRequestExists), in the same statement.
          const record = await openRequest(this.domain, work, {
            requester: actor,
            resourceId: resource.id,
            role,
            kind: 'access',
            extendsGrantId: null,
            durationSeconds: body.durationSeconds,
            reason,
            ticket,
            clientAddress,
          });
          return { statusCode: 201 as const, body: await this.view(work.sql, record) };
        }),
      );
    } catch (error) {
      if (error instanceof OpenRequestExists) throw alreadyOpen(error.requestId);
      // Two requests for one role at the same instant: the index lets one in; the other learns of it here.
      if (violatesUnique(error, 'requests_one_open_per_role')) {
        const open = await findOpenRequest(this.domain.db, {
          requester_id: actor.id,
          resource_id: resource.id,
          role: role.name,
        });
        throw alreadyOpen(open ?? 'unknown');
      }
      throw error;
    }
  }

  /** What `create` would do with this body now, changing nothing. */
  preview(
    actor: PolicyUser,
    body: z.output<typeof createRequestBody>,
    clientAddress: string | null,
  ): Promise<RequestPreviewView> {
    return previewRequest(this.domain, actor, body, clientAddress);
  }

  async get(actor: PolicyUser, id: string): Promise<RequestView> {
    const record = await findRequest(this.domain.db, id);
    if (!record || !this.visible(actor, record)) throw notFound('request', id);
    return this.view(this.domain.db, record);
  }

  async list(
    actor: PolicyUser,
    query: z.output<typeof requestListQuery>,
  ): Promise<{ items: RequestView[]; next: string | null }> {
    if (query.scope === 'all' && !actor.isAdmin) {
      throw forbidden('admin_only', 'Only administrators may list every request.');
    }
    const { items, next } = await listPage(this.domain.db, 'requests', query, (param) => {
      const conditions: string[] = [];
      if (query.scope === 'mine') conditions.push(`requester_id = ${param(actor.id)}`);
      if (query.scope === 'approvable')
        conditions.push(`status = 'pending' AND deciders @> ARRAY[${param(actor.id)}]::text[]`);
      if (query.status) conditions.push(`status = ANY(${param(query.status)}::text[])`);
      return conditions;
    });
    const positions = await queuePositions(this.domain.db, items);
    return {
      items: items.map((row) => toRequestView(this.domain.policy, row, positions.get(row.id) ?? null)),
      next,
    };
  }

  /**
   * One decision. `claim`, when given, runs in the decision's transaction first (an approval link marks
   * itself used there), so the two commit together or not at all.
   */
  decide(
    actor: PolicyUser,
    id: string,
    decision: 'approve' | 'deny',
    comment: string,
    claim?: (work: Work) => Promise<void>,
  ): Promise<RequestView> {
    return this.domain.uow.run(async (work) => {
      const record = await findRequest(work.sql, id, 'lock');
      if (!record || !this.visible(actor, record)) throw notFound('request', id);
      await claim?.(work);
      return this.view(work.sql, await decide(this.domain, work, actor, record, decision, comment));
    });
  }

  /** `reason` is '' when none was given; an administrator cancelling someone else's request needs one. */
  cancel(actor: PolicyUser, id: string, reason: string): Promise<RequestView> {
    return this.domain.uow.run(async (work) => {
      const record = await findRequest(work.sql, id, 'lock');
      if (!record || !this.visible(actor, record)) throw notFound('request', id);
      return this.view(work.sql, await cancel(this.domain, work, actor, record, reason));
    });
  }

  /**
   * At start: every pending request asks whoever the policy the service now runs names (a policy change
   * may have removed approvers), and one nobody can finish any more escalates to the administrators.
   * Returns how many changed.
   */
  reconsiderWaiting(): Promise<number> {
    return this.domain.uow.run(async (work) => {
      const waiting = await work.sql.query<RequestRecord>(
        `SELECT * FROM requests WHERE status = 'pending' ORDER BY id FOR UPDATE SKIP LOCKED`,
      );
      let changed = 0;
      for (const record of waiting) if (await reconsider(this.domain, work, record)) changed += 1;
      return changed;
    });
  }

  /** Requesters see their requests, approvers the ones they were asked to decide, admins everything. */
  private visible(actor: PolicyUser, record: RequestRecord): boolean {
    return actor.isAdmin || record.requester_id === actor.id || record.asked.includes(actor.id);
  }

  private view(sql: Sql, record: RequestRecord): Promise<RequestView> {
    return viewRequest(this.domain, sql, record);
  }
}
