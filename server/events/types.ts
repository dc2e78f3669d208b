/** The live event types of the contract, and the message that crosses instances on commit. */
export type EventType =
  | 'approval.needed'
  | 'request.updated'
  | 'grant.activated'
  | 'grant.extended'
  | 'grant.expiring'
  | 'grant.ended';

export const NOTIFY_CHANNEL = 'timebox';

/** Sent with NOTIFY: whose streams have new events, and the earliest new deadline, if any. */
export interface CommitNotice {
  readonly users: readonly string[];
  readonly deadline: number | null;
}

// NOTIFY payloads must stay under 8000 bytes; past this, listeners are told to refresh every stream.
const MAX_NOTICE_BYTES = 7000;

export function encodeNotice(notice: CommitNotice): string {
  const text = JSON.stringify(notice);
  return Buffer.byteLength(text) <= MAX_NOTICE_BYTES
    ? text
    : JSON.stringify({ users: ['*'], deadline: notice.deadline });
}

export function decodeNotice(payload: string): CommitNotice | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null || !('users' in value) || !('deadline' in value))
      return null;
    const { users, deadline } = value;
    if (!Array.isArray(users) || !users.every((user): user is string => typeof user === 'string'))
      return null;
    if (deadline !== null && typeof deadline !== 'number') return null;
    return { users, deadline };
  } catch {
    return null;
  }
}
