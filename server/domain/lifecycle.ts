import { conflict } from '../lib/errors.js';
import type { GrantRecord, GrantStatus, LapseCause, RequestRecord, RequestStatus } from './records.js';

/**
 * The state machines. Every status change goes through `moveRequest` / `moveGrant`, so an illegal
 * transition is one 409 with a sentence, wherever it is attempted.
 *
 *   pending ─┬─> approved      queued ─┬─> approved     grant: active ─┬─> expired
 *            ├─> queued               ├─> cancelled                   └─> revoked
 *            ├─> denied               └─> lapsed
 *            ├─> cancelled
 *            └─> lapsed
 */
const REQUEST_TRANSITIONS: Readonly<Record<RequestStatus, readonly RequestStatus[]>> = {
  pending: ['approved', 'queued', 'denied', 'cancelled', 'lapsed'],
  queued: ['approved', 'cancelled', 'lapsed'],
  approved: [],
  denied: [],
  cancelled: [],
  lapsed: [],
};

const GRANT_TRANSITIONS: Readonly<Record<GrantStatus, readonly GrantStatus[]>> = {
  active: ['expired', 'revoked'],
  expired: [],
  revoked: [],
};

const REQUEST_STATUS_PHRASE: Readonly<Record<RequestStatus, string>> = {
  pending: 'is still waiting for a decision',
  queued: 'is approved and waiting for a free seat',
  approved: 'was already approved',
  denied: 'was already denied',
  cancelled: 'was cancelled',
  lapsed: 'lapsed because nobody decided in time',
};

const LAPSE_PHRASE: Readonly<Record<LapseCause, string>> = {
  timeout: REQUEST_STATUS_PHRASE.lapsed,
  grant_expired: 'lapsed because its grant expired first',
  grant_relinquished: 'lapsed because its grant was relinquished',
  grant_revoked: 'lapsed because its grant was revoked',
};

type RequestState = Pick<RequestRecord, 'id' | 'status'> & Partial<Pick<RequestRecord, 'lapse_cause'>>;

function refuse(request: RequestState, action: string): never {
  const phrase =
    request.status === 'lapsed' && request.lapse_cause
      ? LAPSE_PHRASE[request.lapse_cause]
      : REQUEST_STATUS_PHRASE[request.status];
  throw conflict('illegal_transition', `Request ${request.id} ${phrase}, so it cannot be ${action}.`, {
    status: request.status,
  });
}

/** `action` completes "… so it cannot be <action>", e.g. "approved", "cancelled". */
export function assertRequestMove(request: RequestState, to: RequestStatus, action: string): void {
  if (!REQUEST_TRANSITIONS[request.status].includes(to)) refuse(request, action);
}

/** Approvers decide only pending requests; a queued one is already approved and waits for a seat. */
export function assertAwaitingDecision(request: RequestState, action: string): void {
  if (request.status !== 'pending') refuse(request, action);
}

export function assertGrantMove(
  grant: Pick<GrantRecord, 'id' | 'status'>,
  to: GrantStatus,
  action: string,
): void {
  if (!GRANT_TRANSITIONS[grant.status].includes(to)) {
    throw conflict(
      'illegal_transition',
      `Grant ${grant.id} has already ${grant.status === 'expired' ? 'expired' : 'been revoked'}, so it cannot be ${action}.`,
      {
        status: grant.status,
      },
    );
  }
}
