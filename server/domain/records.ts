import type { Decision } from '../policy/engine.js';

/** Rows as the database returns them (snake_case, timestamptz as Date). */

export type RequestStatus = 'pending' | 'queued' | 'approved' | 'denied' | 'cancelled' | 'lapsed';
export type GrantStatus = 'active' | 'expired' | 'revoked';
export type GrantEndReason = 'expired' | 'relinquished' | 'revoked';
/** Why a request lapsed: nobody decided (or no seat freed) in time, or the grant an extension was for ended. */
export type LapseCause = 'timeout' | `grant_${GrantEndReason}`;

export interface RequestRecord {
  readonly id: string;
  readonly requester_id: string;
  readonly resource_id: string;
  readonly role: string;
  /** `extension` asks for more time on `extends_grant_id`. */
  readonly kind: 'access' | 'extension';
  readonly extends_grant_id: string | null;
  readonly duration_seconds: number;
  readonly reason: string;
  readonly ticket: string | null;
  readonly status: RequestStatus;
  readonly created_at: Date;
  readonly updated_at: Date;
  /** When the request lapses while pending or queued. */
  readonly expires_at: Date;
  readonly stage_index: number | null;
  readonly stage_escalated: boolean;
  readonly escalates_at: Date | null;
  /** Who may decide it now. */
  readonly deciders: readonly string[];
  /** Everyone who has ever been asked to decide it: they may read it and hear of its changes. */
  readonly asked: readonly string[];
  readonly decisions: readonly Decision[];
  readonly grant_id: string | null;
  readonly queued_at: Date | null;
  /** Place in the seat pool's line while queued; lower is served first. */
  readonly queue_order: number | null;
  /** Why it lapsed, once it has; null otherwise, and for requests that lapsed before migration 5. */
  readonly lapse_cause: LapseCause | null;
  /** The requester's address as the service saw it; null for requests made before migration 9. */
  readonly client_address: string | null;
  /** Why it went to people: the role's conditions it was outside of when made (their messages). */
  readonly outside_conditions: readonly string[];
}

export interface GrantRecord {
  readonly id: string;
  readonly request_id: string;
  readonly user_id: string;
  readonly resource_id: string;
  readonly role: string;
  readonly status: GrantStatus;
  readonly starts_at: Date;
  readonly expires_at: Date;
  readonly ended_at: Date | null;
  readonly end_reason: GrantEndReason | null;
  readonly ended_by: string | null;
  readonly next_reminder_at: Date | null;
}

export interface SessionRecord {
  readonly id: string;
  readonly user_id: string;
  readonly created_at: Date;
  readonly expires_at: Date;
  readonly revoked_at: Date | null;
  readonly last_used_at: Date;
  /** The client's User-Agent at sign-in, shortened. */
  readonly device: string;
  /** The client's address at its last recorded use. */
  readonly address: string;
  readonly auth_method: string;
  readonly auth_time: Date;
  readonly mfa: boolean;
}
