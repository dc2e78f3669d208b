import type { GrantView, RequestView } from '../../api/schemas.js';

/**
 * How news about one object meets what we already know, whichever arrives first: a resync's lists and
 * the live stream's events commute. A request's updatedAt orders its versions; a grant only moves
 * forward (active to ended, expiry later), so an older version never overwrites a newer one.
 */
export function newerRequest(known: RequestView, incoming: RequestView): RequestView {
  return Date.parse(incoming.updatedAt) >= Date.parse(known.updatedAt) ? incoming : known;
}

export function newerGrant<Grant extends GrantView>(known: Grant, incoming: Grant): Grant {
  if (known.status !== 'active' && incoming.status === 'active') {
    // Expired on our clock at an expiry the service has since moved later (an extension we missed while
    // offline): that is news, not a stale copy, since an expiry only moves forward. A revocation is final.
    const extendedMeanwhile =
      known.endReason === 'expired' && Date.parse(incoming.expiresAt) > Date.parse(known.expiresAt);
    return extendedMeanwhile ? incoming : known;
  }
  if (
    known.status === 'active' &&
    incoming.status === 'active' &&
    Date.parse(incoming.expiresAt) < Date.parse(known.expiresAt)
  ) {
    return known;
  }
  return incoming;
}

/** `list` with `item` merged in by id (kept where it was, or first when new). */
export function upsert<Item extends { readonly id: string }>(
  list: readonly Item[],
  item: Item,
  newer: (known: Item, incoming: Item) => Item,
): Item[] {
  const index = list.findIndex((candidate) => candidate.id === item.id);
  if (index === -1) return [item, ...list];
  const merged = newer(list[index] as Item, item);
  return list.map((candidate, position) => (position === index ? merged : candidate));
}

/** The fresh list from the service, each item merged with what we knew of it. */
export function reconcile<Item extends { readonly id: string }>(
  known: readonly Item[],
  fresh: readonly Item[],
  newer: (known: Item, incoming: Item) => Item,
): Item[] {
  const byId = new Map(known.map((item) => [item.id, item]));
  return fresh.map((item) => {
    const previous = byId.get(item.id);
    return previous ? newer(previous, item) : item;
  });
}
