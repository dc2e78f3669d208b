import { describe, expect, it } from 'vitest';
import { parseDeepLink } from '../../main/core/deep-links.js';

const ID = 'req_0123456789abcdefghjk';

describe('deep links', () => {
  it.each([
    [`timebox://approve/${ID}`, { view: 'approvals', requestId: ID }],
    ['timebox://request?resource=prod-db', { view: 'request', resourceId: 'prod-db' }],
    [
      'timebox://request?resource=prod-db&role=read',
      { view: 'request', resourceId: 'prod-db', role: 'read' },
    ],
    [
      'timebox://request?role=read&resource=prod-db',
      { view: 'request', resourceId: 'prod-db', role: 'read' },
    ],
  ])('%s opens its view', (link, target) => {
    expect(parseDeepLink(link)).toEqual({ ok: true, target });
  });

  const refused: [string, string, RegExp][] = [
    ['an empty string', '', /not a URL/],
    ['a bare path', `approve/${ID}`, /not a URL/],
    ['the https scheme', `https://approve/${ID}`, /not a timebox:\/\/ link/],
    ['a look-alike scheme', `timeboxx://approve/${ID}`, /not a timebox:\/\/ link/],
    ['a javascript: URL', 'javascript:alert(1)', /not a timebox:\/\/ link/],
    ['an unknown host', `timebox://delete/${ID}`, /unknown link/],
    ['an upper-case host', `timebox://APPROVE/${ID}`, /unknown link/],
    ['no host', `timebox:///approve/${ID}`, /unknown link/],
    ['no slashes', `timebox:approve/${ID}`, /unknown link/],
    ['an extra path segment', `timebox://approve/${ID}/deny`, /one request id/],
    ['an empty path segment before the id', `timebox://approve//${ID}`, /one request id/],
    ['a path on a request link', 'timebox://request/prod-db?resource=prod-db', /has no path/],
    ['no request id', 'timebox://approve/', /one request id/],
    ['a short id', 'timebox://approve/req_0123', /one request id/],
    ['a grant id', 'timebox://approve/grt_0123456789abcdefghjk', /one request id/],
    [
      'an id with letters outside the alphabet',
      'timebox://approve/req_0123456789abcdefghij',
      /one request id/,
    ],
    ['a percent-encoded id', 'timebox://approve/%72eq_0123456789abcdefghjk', /one request id/],
    ['a parameter on an approve link', `timebox://approve/${ID}?comment=ok`, /takes no parameters/],
    ['an unknown parameter', 'timebox://request?resource=prod-db&as=admin', /resource and role, once each/],
    ['a duplicated resource', 'timebox://request?resource=prod-db&resource=sandbox', /once each/],
    ['a duplicated role', 'timebox://request?resource=prod-db&role=read&role=owner', /once each/],
    ['no resource', 'timebox://request?role=read', /must name a resource/],
    ['a resource that is not a name', 'timebox://request?resource=Prod%20DB', /must name a resource/],
    ['an empty role', 'timebox://request?resource=prod-db&role=', /not a role name/],
    ['a user and password', `timebox://user:secret@approve/${ID}`, /parts Timebox does not use/],
    ['a user', `timebox://user@approve/${ID}`, /parts Timebox does not use/],
    ['a port', `timebox://approve:8080/${ID}`, /parts Timebox does not use/],
    ['a fragment', `timebox://approve/${ID}#deny`, /parts Timebox does not use/],
    ['an empty fragment', `timebox://approve/${ID}#`, /parts Timebox does not use/],
    ['a leading space', ` timebox://approve/${ID}`, /spaces or control characters/],
    ['a newline inside', `timebox://appr\nove/${ID}`, /spaces or control characters/],
    ['a tab inside', `timebox://request?resource=prod-db&ro\tle=read`, /spaces or control characters/],
    ['over 512 characters', `timebox://request?resource=prod-db&role=${'r'.repeat(480)}`, /too long/],
  ];

  it.each(refused)('refuses %s, with a reason', (_name, link, reason) => {
    const result = parseDeepLink(link);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('accepts a link of exactly 512 characters and refuses one more', () => {
    const base = `timebox://approve/${ID}`;
    // Only length decides here: pad a request link with a valid role name up to the limit.
    const request = (length: number) => {
      const prefix = 'timebox://request?resource=prod-db&role=';
      return `${prefix}${'r'.repeat(length - prefix.length)}`;
    };
    expect(parseDeepLink(base).ok).toBe(true);
    expect(parseDeepLink(request(512))).toMatchObject({
      ok: false,
      reason: 'the role in a request link is not a role name',
    });
    expect(parseDeepLink(request(513))).toEqual({ ok: false, reason: 'the link is too long' });
  });
});
