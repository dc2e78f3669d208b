import type { NavigationTarget } from '../../preload/contract.js';

const REQUEST_ID = /^req_[0-9a-hjkmnp-tv-z]{20}$/;
const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_LENGTH = 512;

export type DeepLinkResult =
  { readonly ok: true; readonly target: NavigationTarget } | { readonly ok: false; readonly reason: string };

/**
 * Reads a timebox:// link, strictly: exactly `timebox://approve/<requestId>` or
 * `timebox://request?resource=<id>[&role=<name>]`, nothing else (no user, port, fragment, extra path or
 * parameter). A link comes from anywhere (a chat message, a web page), so anything unexpected is refused.
 */
export function parseDeepLink(link: string): DeepLinkResult {
  if (link.length > MAX_LENGTH) return { ok: false, reason: 'the link is too long' };
  // The URL parser would quietly drop these (trim the ends, remove tabs and newlines inside): refuse them.
  if (/[\s\p{Cc}]/u.test(link))
    return { ok: false, reason: 'the link contains spaces or control characters' };
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    return { ok: false, reason: 'not a URL' };
  }
  if (url.protocol !== 'timebox:') return { ok: false, reason: `not a timebox:// link (${url.protocol})` };
  // An empty fragment ("…#") reads as no hash; the serialised link still shows it.
  if (url.username || url.password || url.port || url.hash || url.href.includes('#'))
    return { ok: false, reason: 'the link carries parts Timebox does not use' };
  // One leading slash only: "approve//<id>" has an empty segment, i.e. a path Timebox does not use.
  const path = url.pathname.startsWith('/') ? url.pathname.slice(1) : url.pathname;
  switch (url.host) {
    case 'approve': {
      if ([...url.searchParams.keys()].length > 0)
        return { ok: false, reason: 'an approve link takes no parameters' };
      if (!REQUEST_ID.test(path)) return { ok: false, reason: 'an approve link must name one request id' };
      return { ok: true, target: { view: 'approvals', requestId: path } };
    }
    case 'request': {
      if (path !== '') return { ok: false, reason: 'a request link has no path' };
      const keys = [...url.searchParams.keys()];
      if (keys.some((key) => key !== 'resource' && key !== 'role') || new Set(keys).size !== keys.length) {
        return { ok: false, reason: 'a request link takes resource and role, once each' };
      }
      const resource = url.searchParams.get('resource');
      const role = url.searchParams.get('role');
      if (resource === null || !SLUG.test(resource))
        return { ok: false, reason: 'a request link must name a resource' };
      if (role !== null && !SLUG.test(role))
        return { ok: false, reason: 'the role in a request link is not a role name' };
      return {
        ok: true,
        target: { view: 'request', resourceId: resource, ...(role === null ? {} : { role }) },
      };
    }
    default:
      return { ok: false, reason: `unknown link "${url.host}"` };
  }
}
