import type { Parameters } from '../db/parameters.js';
import type { GrantView, RequestView } from '../../api/schemas.js';

/**
 * What the domain tells the world outside the app (webhooks, mail) about a change: the contract's webhook
 * event types, and `approval.needed` for the people asked to decide. The data is the request's or grant's
 * public view, which never holds a credential.
 */
export type Announcement =
  | {
      readonly type:
        'request.created' | 'request.approved' | 'request.denied' | 'request.cancelled' | 'request.lapsed';
      readonly data: RequestView;
    }
  | { readonly type: 'grant.activated' | 'grant.extended' | 'grant.ended'; readonly data: GrantView }
  | {
      /** People newly asked to decide a request: `approvers` may decide it now. */
      readonly type: 'approval.needed';
      readonly data: RequestView;
      readonly approvers: readonly string[];
    };

export type AnnouncementType = Announcement['type'];

/**
 * Where announcements go: the outbox the channels keep. The domain hands over a transaction's
 * announcements as it commits, and the outbox writes its deliveries in that same statement (as WITH items),
 * so a change and what it announces commit together, in one round trip, or not at all.
 */
export interface AnnouncementOutbox {
  /**
   * The WITH items that write the deliveries of `announcements` made at `now`, adding their values to
   * `parameters`; with `onlyIf` (an SQL condition) nothing is written unless it holds. None when no
   * channel wants any of them.
   */
  writeSql(
    parameters: Parameters,
    now: number,
    announcements: readonly Announcement[],
    onlyIf?: string,
  ): string[];
  /** Hears that deliveries were committed (at `now`), so they are sent without waiting for a poll. */
  committed(now: number): void;
  /**
   * When, should this instance die before it delivers what a commit at `now` wrote, another instance's
   * scheduler must look: the end of the lease a claim at `now` would take.
   */
  takeoverAt(now: number): number;
}
