import { describe, expect, it } from 'vitest';
import { parseStreamEvent } from '../../main/core/stream-events.js';
import { grantView } from '../../api/schemas.js';
import { grantState, requestView } from './fixtures.js';

/** The wire shape of a grant: the state's extra fields (where its credential stands) stripped. */
const grant = grantView.parse(grantState());
const request = requestView();

describe('stream events', () => {
  it.each([
    ['approval.needed', request],
    ['request.updated', { ...request, status: 'approved', grantId: grant.id }],
    ['grant.activated', grant],
    ['grant.extended', grant],
    ['grant.ended', { ...grant, status: 'revoked', endReason: 'revoked', endedAt: grant.expiresAt }],
  ])('reads a well-formed %s', (type, data) => {
    expect(parseStreamEvent(type, JSON.stringify(data))).toEqual({ kind: 'event', event: { type, data } });
  });

  it.each([
    ['grant.expiring', JSON.stringify({ grant, secondsLeft: 60 })],
    ['message', '{}'],
    ['grant.transferred', 'not even JSON'],
    ['', ''],
  ])('ignores %s, which the desktop does not act on', (type, data) => {
    expect(parseStreamEvent(type, data)).toEqual({ kind: 'ignored' });
  });

  it.each([
    ['grant.activated', 'not json {', /^the data is not JSON$/],
    ['grant.activated', '', /^the data is not JSON$/],
    ['grant.activated', 'null', /^data: /],
    ['grant.activated', '[]', /^data: /],
    ['grant.activated', JSON.stringify({ id: 42 }), /^id: /],
    ['grant.ended', JSON.stringify({ ...grant, status: 'gone' }), /^status: /],
    ['grant.extended', JSON.stringify({ ...grant, expiresAt: 'tomorrow' }), /^expiresAt: /],
    ['approval.needed', JSON.stringify({ ...request, waitingFor: 'bob' }), /^waitingFor: /],
    ['request.updated', JSON.stringify(grant), /: /],
  ])('says what is wrong with a malformed %s (%s)', (type, data, problem) => {
    const parsed = parseStreamEvent(type, data);
    expect(parsed.kind).toBe('malformed');
    if (parsed.kind === 'malformed') expect(parsed.problem).toMatch(problem);
  });
});
