import type { AppState } from '../../preload/contract.js';
import type { GrantView, RequestView } from '../../api/schemas.js';
import * as text from './notice-text.js';
import type { Notice } from './notifications.js';

/** What a resync loaded. */
export interface Loaded {
  readonly catalog: AppState['catalog'];
  readonly requests: readonly RequestView[];
  readonly approvals: readonly RequestView[];
  readonly active: readonly GrantView[];
}

/** What a resync found that the live stream would have announced. */
export interface News {
  readonly notices: Notice[];
  /** Grants that became active: told once their credentials' fetches settle. */
  readonly activated: string[];
}

/**
 * Decisions on requests we knew, and the grants they became; after the session's first sync (`synced`),
 * also new requests to approve and any new grant. The first sync announces no backlog, only what changed
 * in what the user was waiting for.
 */
export function newsBetween(
  context: text.NoticeContext,
  before: AppState,
  after: Loaded,
  synced: boolean,
): News {
  const knownApprovals = new Set(before.approvals.map((request) => request.id));
  const statusBefore = new Map(before.requests.map((request) => [request.id, request.status]));
  const activeBefore = new Set(
    before.grants.filter((grant) => grant.status === 'active').map((grant) => grant.id),
  );
  const awaited = (grant: GrantView): boolean => {
    const status = statusBefore.get(grant.requestId);
    return status === 'pending' || status === 'queued';
  };
  return {
    notices: [
      ...after.approvals
        .filter((request) => synced && !knownApprovals.has(request.id))
        .map((request) => text.approvalNeeded(context, request)),
      ...after.requests.flatMap((request) => {
        const previous = statusBefore.get(request.id);
        if (previous === undefined || previous === request.status) return [];
        const grant = after.active.find(
          (candidate) => candidate.id === (request.extendsGrantId ?? request.grantId),
        );
        return text.requestChanged(context, request, grant) ?? [];
      }),
    ],
    activated: after.active
      .filter((grant) => !activeBefore.has(grant.id) && (synced || awaited(grant)))
      .map((grant) => grant.id),
  };
}
