import type { GrantView, RequestView } from './schemas.js';

/** Why a request lapsed: nobody decided in time, or (an extension) its grant ended first. */
export type LapseCause = NonNullable<RequestView['lapseCause']>;

/**
 * Why a lapsed request lapsed, as the service recorded it; for one that lapsed before the service
 * recorded causes, worked out from the grant it extends. Saying "nobody decided in time" of an extension
 * whose grant ended first would be wrong. The notice and the history each put it in their own words.
 */
export function lapseCause(
  request: Pick<RequestView, 'kind' | 'lapseCause'>,
  extendedGrant: Pick<GrantView, 'status' | 'endReason'> | undefined,
): LapseCause {
  if (request.lapseCause !== null) return request.lapseCause;
  if (request.kind !== 'extension' || !extendedGrant || extendedGrant.status === 'active') return 'timeout';
  switch (extendedGrant.endReason) {
    case 'revoked':
      return 'grant_revoked';
    case 'relinquished':
      return 'grant_relinquished';
    default:
      return 'grant_expired';
  }
}
