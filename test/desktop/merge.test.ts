import { describe, expect, it } from 'vitest';
import { newerGrant, newerRequest, reconcile, upsert } from '../../main/core/merge.js';
import type { GrantState } from '../../preload/contract.js';
import { grantState, iso, NOW, requestView } from './fixtures.js';

describe('merge rules', () => {
  describe('requests', () => {
    const pending = requestView({ updatedAt: iso(NOW) });
    const approved = { ...pending, status: 'approved' as const, updatedAt: iso(NOW + 1000) };

    it('keep the later version by updatedAt, whichever arrives first', () => {
      expect(newerRequest(pending, approved)).toBe(approved);
      expect(newerRequest(approved, pending)).toBe(approved); // a stale list after the live event
    });

    it('take the incoming version on a tie (the same instant: the newer read)', () => {
      const same = { ...pending, reason: 'reread' };
      expect(newerRequest(pending, same)).toBe(same);
    });
  });

  describe('grants', () => {
    const active = grantState({ expiresAt: iso(NOW + 600_000) });
    const extended = { ...active, expiresAt: iso(NOW + 1_200_000) };
    const ended: GrantState = { ...active, status: 'revoked', endReason: 'relinquished', endedAt: iso(NOW) };

    it('only move forward: an ended grant never becomes active again from a stale copy', () => {
      expect(newerGrant(active, ended)).toBe(ended);
      expect(newerGrant(ended, active)).toBe(ended);
    });

    it('take the service’s active version over one ended here at the old expiry, when it was extended meanwhile', () => {
      // The app was offline at the old expiry and wiped the credential on its own clock; the service had
      // extended the grant. Expiry only moves forward, so a later expiry can only be news, never stale.
      const expiredLocally: GrantState = {
        ...active,
        status: 'expired',
        endReason: 'expired',
        endedAt: active.expiresAt,
      };
      expect(newerGrant(expiredLocally, extended)).toBe(extended);
      expect(newerGrant(expiredLocally, active)).toBe(expiredLocally);
      // A revocation is final, whatever expiry a copy carries.
      expect(newerGrant(ended, extended)).toBe(ended);
    });

    it('keep the later expiry of two active versions', () => {
      expect(newerGrant(active, extended)).toBe(extended);
      expect(newerGrant(extended, active)).toBe(extended);
    });

    it('take the incoming one between two ended versions (the service’s word on how it ended)', () => {
      const expiredLocally: GrantState = { ...active, status: 'expired', endReason: 'expired' };
      expect(newerGrant(expiredLocally, ended)).toBe(ended);
    });
  });

  describe('lists', () => {
    it('upsert puts a new item first and merges a known one in place', () => {
      const [a, b] = [requestView({ updatedAt: iso(NOW) }), requestView({ updatedAt: iso(NOW) })];
      const c = requestView();
      expect(upsert([a, b], c, newerRequest)).toEqual([c, a, b]);
      const newerB = { ...b, status: 'denied' as const, updatedAt: iso(NOW + 1) };
      expect(upsert([a, b], newerB, newerRequest)).toEqual([a, newerB]);
      const staleB = { ...b, updatedAt: iso(NOW - 1), status: 'cancelled' as const };
      expect(upsert([a, b], staleB, newerRequest)).toEqual([a, b]);
    });

    it('reconcile takes the fresh list, each item merged with what was known; gone items leave', () => {
      const live = grantState({ expiresAt: iso(NOW + 900_000) });
      const endedByEvent = { ...live, status: 'expired' as const, endReason: 'expired' as const };
      const gone = grantState();
      const fresh = grantState();
      // The list was read before the grant ended; its end arrived by event first.
      const merged = reconcile([endedByEvent, gone], [live, fresh], newerGrant);
      expect(merged).toEqual([endedByEvent, fresh]);
    });
  });
});
