/** The live event types of the contract, and the message that crosses instances on commit. */
export type EventType =
  | 'approval.needed'
  | 'request.updated'
  | 'grant.activated'
  | 'grant.extended'
  | 'grant.expiring'
  | 'grant.ended';

export const NOTIFY_CHANNEL = 'timebox';

/**
 * Sent with NOTIFY: whose streams have new events, the earliest new deadline, if any, the sessions
 * that ended (their streams end on every instance) and the grants that ended before their expiry (their
 * credentials stop passing introspection on every instance). `'*'` in a list stands for all of them.
 */
export interface CommitNotice {
  readonly users: readonly string[];
  readonly deadline: number | null;
  readonly endedSessions: readonly string[];
  readonly endedGrants: readonly string[];
}

// NOTIFY payloads must stay under 8000 bytes; past this, listeners are told to refresh every stream.
const MAX_NOTICE_BYTES = 7000;

export function encodeNotice(notice: CommitNotice): string {
  const text = JSON.stringify(notice);
  if (Buffer.byteLength(text) <= MAX_NOTICE_BYTES) return text;
  const everyone = (list: readonly string[]): string[] => (list.length > 0 ? ['*'] : []);
  return JSON.stringify({
    users: everyone(notice.users),
    deadline: notice.deadline,
    endedSessions: everyone(notice.endedSessions),
    endedGrants: everyone(notice.endedGrants),
  });
}

const isStringList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item): item is string => typeof item === 'string');

export function decodeNotice(payload: string): CommitNotice | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null || !('users' in value) || !('deadline' in value))
      return null;
    const { users, deadline } = value;
    // A notice from an instance that predates ended sessions or grants has none.
    const endedSessions = 'endedSessions' in value ? value.endedSessions : [];
    const endedGrants = 'endedGrants' in value ? value.endedGrants : [];
    if (!isStringList(users) || !isStringList(endedSessions) || !isStringList(endedGrants)) return null;
    if (deadline !== null && typeof deadline !== 'number') return null;
    return { users, deadline, endedSessions, endedGrants };
  } catch {
    return null;
  }
}
