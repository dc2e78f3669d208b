import type { Sql } from '../db/database.js';
import type { RequestView } from '../../api/schemas.js';
import { conflict } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import { extensionHeadroomSeconds, nextReminderAt } from '../policy/engine.js';
import { assertGrantMove, assertRequestMove } from './lifecycle.js';
import { roleOf, type Domain } from './context.js';
import type { GrantEndReason, GrantRecord, RequestRecord } from './records.js';
import {
  findGrant,
  lockSeatPool,
  queuePositions,
  seatsInUse,
  updateGrant,
  updateGrants,
  updateRequest,
  writeRequest,
  type RequestWrite,
} from './store.js';
import { toGrantView, toRequestView } from './views.js';
import type { Work } from './work.js';

/**
 * Grant-side state changes, shared by every path that causes them: a request approved by policy or by
 * people, a seat freeing up, an extension, expiry, relinquish and revoke.
 */

/** A request as the API shows it, with its place in its seat pool's line when queued. */
export async function viewRequest(domain: Domain, sql: Sql, request: RequestRecord): Promise<RequestView> {
  const positions = await queuePositions(sql, [request]);
  return toRequestView(domain.policy, request, positions.get(request.id) ?? null);
}

/** Tells the requester and everyone asked to decide that a request changed. */
export async function announceRequest(domain: Domain, work: Work, request: RequestRecord): Promise<void> {
  const view = await viewRequest(domain, work.sql, request);
  work.emit([request.requester_id, ...request.asked], 'request.updated', view);
  // A request that reached its end is announced outside the app too; pending and queued ones are not ends.
  if (request.status !== 'pending' && request.status !== 'queued') {
    work.announce({ type: `request.${request.status}`, data: view });
  }
}

/**
 * Turns an approved access request into an active grant, or queues it when its role's seats are all
 * taken. The seat pool's lock makes the count and the insert one step across all instances. A request
 * the policy approves as it is opened is not stored yet (`write` is 'insert'): it is written once, in
 * its new state.
 */
export async function activateOrQueue(
  domain: Domain,
  work: Work,
  request: RequestRecord,
  write: RequestWrite = 'update',
): Promise<RequestRecord> {
  const role = roleOf(domain.policy, request);
  if (role.seats !== null) {
    await lockSeatPool(work.sql, request.resource_id, request.role);
    if ((await seatsInUse(work.sql, request.resource_id, request.role)) >= role.seats) {
      if (request.status === 'queued') return request;
      assertRequestMove(request, 'queued', 'queued');
      const [order] = await work.sql.query<{ next: number }>(`SELECT nextval('request_queue_order') AS next`);
      const queued = await writeRequest(work, request, write, {
        status: 'queued',
        queued_at: new Date(work.now),
        queue_order: order?.next ?? null,
        expires_at: new Date(work.now + role.pendingTimeoutSeconds * 1000),
        deciders: [],
        escalates_at: null,
        updated_at: new Date(work.now),
      });
      work.audit({
        actorId: null,
        action: 'request.queued',
        subjectType: 'request',
        subjectId: request.id,
        data: { seats: role.seats },
      });
      work.wake(queued.expires_at);
      await announceRequest(domain, work, queued);
      return queued;
    }
  }
  assertRequestMove(request, 'approved', 'approved');
  const startsAt = work.now;
  const expiresAt = startsAt + request.duration_seconds * 1000;
  const reminderAt = nextReminderAt(
    domain.policy.service.reminderLeadsSeconds,
    startsAt,
    expiresAt,
    work.now,
  );
  const grant: GrantRecord = {
    id: newId('grt'),
    request_id: request.id,
    user_id: request.requester_id,
    resource_id: request.resource_id,
    role: request.role,
    status: 'active',
    starts_at: new Date(startsAt),
    expires_at: new Date(expiresAt),
    ended_at: null,
    end_reason: null,
    ended_by: null,
    next_reminder_at: reminderAt === null ? null : new Date(reminderAt),
  };
  const approved = await writeRequest(
    work,
    request,
    write,
    {
      status: 'approved',
      grant_id: grant.id,
      deciders: [],
      escalates_at: null,
      updated_at: new Date(work.now),
    },
    grant,
  );
  await domain.access.want(work, grant, 'present');
  work.audit({
    actorId: null,
    action: 'grant.activated',
    subjectType: 'grant',
    subjectId: grant.id,
    data: {
      requestId: request.id,
      userId: grant.user_id,
      resourceId: grant.resource_id,
      role: grant.role,
      expiresAt: grant.expires_at.toISOString(),
    },
  });
  work.wake(grant.expires_at);
  work.wake(grant.next_reminder_at);
  const activatedView = toGrantView(domain.policy, grant);
  work.emit([grant.user_id], 'grant.activated', activatedView);
  work.announce({ type: 'grant.activated', data: activatedView });
  await announceRequest(domain, work, approved);
  return approved;
}

/** Adds an approved extension's time to its grant, within the role's maximum total duration. */
export async function applyExtension(
  domain: Domain,
  work: Work,
  request: RequestRecord,
): Promise<RequestRecord> {
  const grant =
    request.extends_grant_id === null ? null : await findGrant(work.sql, request.extends_grant_id, 'lock');
  if (!grant) throw new Error(`extension request ${request.id} has no grant`);
  // A grant past its expiry has ended even if the expiry engine has not written it down yet: an approval
  // arriving in that gap must not bring it back.
  if (grant.status !== 'active' || grant.expires_at.getTime() <= work.now) {
    throw conflict('illegal_transition', `Grant ${grant.id} has ended, so it cannot be extended.`, {
      status: grant.status === 'active' ? 'expired' : grant.status,
    });
  }
  const role = roleOf(domain.policy, grant);
  const headroom = extensionHeadroomSeconds(role, grant.starts_at.getTime(), grant.expires_at.getTime());
  if (request.duration_seconds > headroom) {
    throw conflict(
      'extension_exceeds_maximum',
      `Grant ${grant.id} can be extended by at most ${headroom} more seconds: its role allows ${role.maxDurationSeconds} seconds in total.`,
      { maxExtensionSeconds: headroom },
    );
  }
  assertRequestMove(request, 'approved', 'approved');
  const expiresAt = grant.expires_at.getTime() + request.duration_seconds * 1000;
  const reminderAt = nextReminderAt(
    domain.policy.service.reminderLeadsSeconds,
    grant.starts_at.getTime(),
    expiresAt,
    work.now,
  );
  const extended = await updateGrant(work.sql, grant.id, {
    expires_at: new Date(expiresAt),
    next_reminder_at: reminderAt === null ? null : new Date(reminderAt),
  });
  const approved = await updateRequest(work.sql, request.id, {
    status: 'approved',
    grant_id: grant.id,
    deciders: [],
    escalates_at: null,
    updated_at: new Date(work.now),
  });
  work.audit({
    actorId: null,
    action: 'grant.extended',
    subjectType: 'grant',
    subjectId: grant.id,
    data: {
      requestId: request.id,
      bySeconds: request.duration_seconds,
      expiresAt: extended.expires_at.toISOString(),
    },
  });
  await domain.access.want(work, extended, 'present');
  work.wake(extended.next_reminder_at);
  const extendedView = toGrantView(domain.policy, extended);
  work.emit([grant.user_id], 'grant.extended', extendedView);
  work.announce({ type: 'grant.extended', data: extendedView });
  await announceRequest(domain, work, approved);
  return approved;
}

/**
 * Ends an active grant. Its pending extensions lapse with it, and when its role has seats the next
 * requests in line take the freed seat in the same transaction.
 */
export async function endGrant(
  domain: Domain,
  work: Work,
  grant: GrantRecord,
  reason: GrantEndReason,
  actorId: string | null,
  comment: string | null,
): Promise<GrantRecord> {
  const [ended] = await endGrants(domain, work, [grant], reason, actorId, comment);
  if (!ended) throw new Error(`grant ${grant.id} was not ended`);
  return ended;
}

/**
 * Ends active grants for one reason, as `endGrant` ends each, in a fixed number of statements however
 * many there are: after downtime the expiry sweep ends hundreds in one transaction, where two statements
 * a grant held the last ones back (300 overdue grants took 300 to 370 ms in-process, now under 200).
 * Seat pools are filled in the order the grants come in (callers sort them by pool, the global order of
 * pool locks), each once, after all its grants ended.
 */
export async function endGrants(
  domain: Domain,
  work: Work,
  grants: readonly GrantRecord[],
  reason: GrantEndReason,
  actorId: string | null,
  comment: string | null,
): Promise<GrantRecord[]> {
  if (grants.length === 0) return [];
  const status = reason === 'expired' ? 'expired' : 'revoked';
  for (const grant of grants) {
    assertGrantMove(grant, status, reason === 'relinquished' ? 'relinquished' : 'revoked');
  }
  const ended = await updateGrants(
    work.sql,
    grants.map((grant) => grant.id),
    { status, ended_at: new Date(work.now), end_reason: reason, ended_by: actorId, next_reminder_at: null },
  );
  if (reason !== 'expired') work.grantsEndedEarly(ended.map((grant) => grant.id));
  // The rows as updated: the same grants, in the same order (updateGrants says so or throws).
  for (const grant of ended) {
    work.audit({
      actorId,
      action: `grant.${reason}`,
      subjectType: 'grant',
      subjectId: grant.id,
      data: {
        userId: grant.user_id,
        expiresAt: grant.expires_at.toISOString(),
        ...(comment ? { comment } : {}),
      },
    });
    await domain.access.want(work, grant, 'absent');
    const endedView = toGrantView(domain.policy, grant);
    work.emit([grant.user_id], 'grant.ended', endedView);
    work.announce({ type: 'grant.ended', data: endedView });
    const lagSeconds = (work.now - grant.expires_at.getTime()) / 1000;
    work.onCommitted(() => {
      domain.metrics.grantsEnded.inc({ reason });
      if (reason === 'expired') domain.metrics.revocationLag.observe(Math.max(0, lagSeconds));
    });
  }

  const extensions = await work.sql.query<RequestRecord>(
    `SELECT * FROM requests WHERE extends_grant_id = ANY($1::text[]) AND status = 'pending' ORDER BY id FOR UPDATE`,
    [grants.map((grant) => grant.id)],
  );
  for (const extension of extensions) {
    const lapsed = await updateRequest(work.sql, extension.id, {
      status: 'lapsed',
      lapse_cause: `grant_${reason}`,
      deciders: [],
      escalates_at: null,
      updated_at: new Date(work.now),
    });
    work.audit({
      actorId: null,
      action: 'request.lapsed',
      subjectType: 'request',
      subjectId: extension.id,
      data: { because: 'grant ended', grantEndReason: reason },
    });
    await announceRequest(domain, work, lapsed);
  }

  const filled = new Set<string>();
  for (const grant of grants) {
    const pool = `${grant.resource_id}/${grant.role}`;
    const role = domain.policy.resources.get(grant.resource_id)?.roles.get(grant.role);
    if (role?.seats == null || filled.has(pool)) continue;
    filled.add(pool);
    await fillFreedSeats(domain, work, grant.resource_id, grant.role, role.seats);
  }
  return ended;
}

/** Activates queued requests, first in line first, while seats are free. */
async function fillFreedSeats(
  domain: Domain,
  work: Work,
  resourceId: string,
  role: string,
  seats: number,
): Promise<void> {
  await lockSeatPool(work.sql, resourceId, role);
  let free = seats - (await seatsInUse(work.sql, resourceId, role));
  while (free > 0) {
    // SKIP LOCKED: a queued request someone is cancelling right now is passed over, not waited for.
    const [next] = await work.sql.query<RequestRecord>(
      `SELECT * FROM requests WHERE status = 'queued' AND resource_id = $1 AND role = $2
        ORDER BY queue_order LIMIT 1 FOR UPDATE SKIP LOCKED`,
      [resourceId, role],
    );
    if (!next) return;
    await activateOrQueue(domain, work, next);
    free -= 1;
  }
}
