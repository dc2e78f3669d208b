import type { AppState, GrantState } from '../../preload/contract.js';
import type { RequestView } from '../../api/schemas.js';
import { isLive } from '../time/countdown.js';

/** Grants that still give access, the nearest expiry first. */
export function liveGrants(grants: readonly GrantState[], serviceNow: number): GrantState[] {
  return byExpiry(grants.filter((grant) => isLive(grant, serviceNow)));
}

/** Grants, the nearest expiry first. */
export function byExpiry(grants: GrantState[]): GrantState[] {
  return grants.sort((a, b) => Date.parse(a.expiresAt) - Date.parse(b.expiresAt));
}

/**
 * How many of `active` (active grants, the nearest expiry first) have reached their expiry at
 * `serviceNow`: the first that many have ended, the rest still give access. A binary search, so a view can
 * derive it at every tick and re-render only when a grant ends.
 */
export function expiredCount(active: readonly GrantState[], serviceNow: number): number {
  let low = 0;
  let high = active.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const grant = active[middle];
    if (grant && Date.parse(grant.expiresAt) <= serviceNow) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** When a grant stopped giving access: its end, or its expiry if that passed first. */
export function endedAt(grant: GrantState): number {
  return Date.parse(grant.endedAt ?? grant.expiresAt);
}

/** Grants that ended within `withinMs` of now (including those whose expiry just passed), newest first. */
export function recentlyEnded(
  grants: readonly GrantState[],
  serviceNow: number,
  withinMs: number,
): GrantState[] {
  return grants
    .filter(
      (grant) => !isLive(grant, serviceNow) && serviceNow - Math.min(endedAt(grant), serviceNow) <= withinMs,
    )
    .sort((a, b) => endedAt(b) - endedAt(a));
}

/** My requests still in motion: waiting for a decision or for a seat. */
export function openRequests(requests: readonly RequestView[]): RequestView[] {
  return requests.filter((request) => request.status === 'pending' || request.status === 'queued');
}

export type HistoryEntry =
  | { readonly kind: 'grant'; readonly at: number; readonly grant: GrantState }
  | { readonly kind: 'request'; readonly at: number; readonly request: RequestView };

/**
 * What happened to my access, newest first: ended grants, and requests that never became one (denied,
 * cancelled, lapsed). Approved requests are told by their grants.
 */
export function history(
  state: Pick<AppState, 'grants' | 'requests'>,
  hasEnded: (grant: GrantState) => boolean,
): HistoryEntry[] {
  const grants: HistoryEntry[] = state.grants
    .filter(hasEnded)
    .map((grant) => ({ kind: 'grant', at: endedAt(grant), grant }));
  const requests: HistoryEntry[] = state.requests
    .filter(
      (request) =>
        request.status === 'denied' || request.status === 'cancelled' || request.status === 'lapsed',
    )
    .map((request) => ({ kind: 'request', at: Date.parse(request.updatedAt), request }));
  return [...grants, ...requests].sort((a, b) => b.at - a.at);
}

/** The catalog's name for a resource, or its id. */
export function resourceName(catalog: AppState['catalog'], resourceId: string): string {
  return catalog.find((resource) => resource.id === resourceId)?.name ?? resourceId;
}

/** The catalog's description of a role, when the catalog has it. */
export function findRole(catalog: AppState['catalog'], resourceId: string, role: string) {
  return catalog
    .find((resource) => resource.id === resourceId)
    ?.roles.find((candidate) => candidate.name === role);
}
