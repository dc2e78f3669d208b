import type { GrantView, RequestView } from './schemas.js';

/**
 * Why a request lapsed. An extension lapses with its grant when that ends first, and saying "nobody
 * decided in time" then would be wrong; every other lapse is a request nobody decided before it timed out.
 * The notice and the history each put the cause in their own words.
 */
export type LapseCause = 'nobody_decided' | 'grant_revoked' | 'grant_relinquished' | 'grant_expired';

export function lapseCause(
  request: Pick<RequestView, 'kind'>,
  extendedGrant: Pick<GrantView, 'status' | 'endReason'> | undefined,
): LapseCause {
  if (request.kind !== 'extension' || !extendedGrant || extendedGrant.status === 'active')
    return 'nobody_decided';
  switch (extendedGrant.endReason) {
    case 'revoked':
      return 'grant_revoked';
    case 'relinquished':
      return 'grant_relinquished';
    default:
      return 'grant_expired';
  }
}
