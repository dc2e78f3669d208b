import type { GrantState } from '../../preload/contract.js';
import type { GrantView, RequestView, ResourceView } from '../../api/schemas.js';
import { formatDuration } from '../../api/duration.js';
import { lapseCause, type LapseCause } from '../../api/lapse-cause.js';
import type { Notice } from './notifications.js';
import { timeLeft } from './tray-model.js';

/** The wording of every notification, from the events that cause them. Pure, so it is easy to read and test. */

export interface NoticeContext {
  readonly catalog: readonly ResourceView[];
  /** The service's clock offset, to print end times on the user's clock. */
  readonly clockOffsetMs: number;
  readonly displayName: (userId: string) => string;
}

function what(context: NoticeContext, item: { readonly resourceId: string; readonly role: string }): string {
  const resource = context.catalog.find((candidate) => candidate.id === item.resourceId);
  return `${resource?.name ?? item.resourceId} · ${item.role}`;
}

function endsAt(context: NoticeContext, expiresAt: string): string {
  return new Date(Date.parse(expiresAt) - context.clockOffsetMs).toLocaleTimeString([], {
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function approvalNeeded(context: NoticeContext, request: RequestView): Notice {
  const stage =
    request.stage && request.stage.total > 1
      ? ` (stage ${request.stage.index + 1} of ${request.stage.total}: ${request.stage.name})`
      : '';
  const details = [
    formatDuration(request.durationSeconds),
    request.reason ? `“${request.reason}”` : null,
    request.ticket,
  ]
    .filter(Boolean)
    .join(' · ');
  return {
    key: `approval:${request.id}:${request.stage?.index ?? 0}:${String(request.stage?.escalated ?? false)}`,
    kind: 'approval-needed',
    title: `${context.displayName(request.requesterId)} asks for ${what(context, request)}${stage}`,
    body: details,
    target: { view: 'approvals', requestId: request.id },
  };
}

/** What a change in my own request is worth telling me; null when nothing (an activation says it better). */
export function requestChanged(
  context: NoticeContext,
  request: RequestView,
  grant: GrantView | undefined,
): Notice | null {
  const key = `request:${request.id}:${request.status}`;
  const target = { view: 'access', requestId: request.id } as const;
  switch (request.status) {
    case 'denied': {
      const denial = request.decisions.find((decision) => decision.decision === 'deny');
      return {
        key,
        kind: 'request-decided',
        title: `Request denied: ${what(context, request)}`,
        body: denial ? `${context.displayName(denial.approverId)}: “${denial.comment}”` : 'It was denied.',
        target,
      };
    }
    case 'queued':
      return {
        key,
        kind: 'queued',
        title: `Waiting for a seat: ${what(context, request)}`,
        body: `Every seat is in use; you are number ${request.queuePosition ?? '?'} in line and will be told when it starts.`,
        target,
      };
    case 'lapsed':
      return {
        key,
        kind: 'request-decided',
        title: `Request lapsed: ${what(context, request)}`,
        body: WHY_LAPSED[lapseCause(request, grant)],
        target,
      };
    case 'approved':
      if (request.kind !== 'extension') return null;
      return {
        key,
        kind: 'request-decided',
        title: `Extension approved: ${what(context, request)}`,
        body: grant ? `It now ends at ${endsAt(context, grant.expiresAt)}.` : 'The grant was extended.',
        target: { view: 'access', grantId: request.extendsGrantId ?? request.grantId ?? undefined },
      };
    default:
      return null;
  }
}

const WHY_LAPSED: Readonly<Record<LapseCause, string>> = {
  timeout: 'Nobody decided in time; ask again if you still need it.',
  grant_revoked: 'An administrator revoked its grant first, so the extension lapsed with it.',
  grant_relinquished: 'You relinquished its grant first, so the extension lapsed with it.',
  grant_expired: 'Its grant expired before anyone decided, so the extension lapsed with it.',
};

/** Said once the credential's fetch has settled, so that it says where the credential is. */
export function activated(context: NoticeContext, grant: GrantState): Notice {
  const until = `Until ${endsAt(context, grant.expiresAt)}.`;
  const where =
    grant.credential === 'stored'
      ? ' The credential is in your keychain.'
      : grant.credential === 'failed'
        ? ` Its credential is not in your keychain: ${grant.credentialError ?? 'it could not be fetched.'}`
        : '';
  return {
    key: `activated:${grant.id}`,
    kind: 'activated',
    title: `Access granted: ${what(context, grant)}`,
    body: `${until}${where}`,
    target: { view: 'access', grantId: grant.id },
  };
}

export function expiring(
  context: NoticeContext,
  grant: GrantView,
  secondsLeft: number,
  leadSeconds: number,
): Notice {
  return {
    key: `expiring:${grant.id}:${leadSeconds}:${grant.expiresAt}`,
    kind: 'expiring',
    title: `${what(context, grant)} ends in ${timeLeft(secondsLeft * 1000)}`,
    body: `At ${endsAt(context, grant.expiresAt)}. Extend it if you still need it.`,
    target: { view: 'access', grantId: grant.id },
    action: { label: 'Extend…', target: { view: 'extend', grantId: grant.id } },
  };
}

/** What became of an ended grant's keychain copy. */
export type CredentialRemoval =
  | { readonly outcome: 'removed' }
  /** Nothing was stored (no keychain, or the fetch never succeeded). */
  | { readonly outcome: 'none' }
  | { readonly outcome: 'failed'; readonly message: string };

export function ended(
  context: NoticeContext,
  grant: Pick<GrantView, 'id' | 'resourceId' | 'role' | 'endReason' | 'expiresAt'>,
  removal: CredentialRemoval,
): Notice {
  const why =
    grant.endReason === 'relinquished'
      ? 'You relinquished it.'
      : grant.endReason === 'revoked'
        ? 'An administrator revoked it.'
        : `It expired at ${endsAt(context, grant.expiresAt)}.`;
  const base = {
    // One key whatever became of the credential: the service's grant.ended, arriving later, is the same news.
    key: `ended:${grant.id}`,
    title: `Access ended: ${what(context, grant)}`,
    target: { view: 'access', grantId: grant.id },
  } as const;
  switch (removal.outcome) {
    case 'removed':
      return { ...base, kind: 'ended', body: `${why} Its credential was removed from your keychain.` };
    case 'none':
      return { ...base, kind: 'ended', body: why };
    case 'failed':
      return {
        ...base,
        kind: 'credential-kept',
        body: `${why} Its credential could not be removed from your keychain: ${removal.message} Timebox removes it as soon as the keychain lets it (it checks every few seconds, and at every start).`,
      };
  }
}

/** An ended grant's credential, kept because the keychain refused, is removed at last. */
export function removedLate(
  context: NoticeContext,
  grant: Pick<GrantView, 'id' | 'resourceId' | 'role'>,
): Notice {
  return {
    key: `removed-late:${grant.id}`,
    kind: 'ended',
    title: `Credential removed: ${what(context, grant)}`,
    body: 'Your keychain answers again, and the credential of this ended grant is no longer in it.',
    target: { view: 'access', grantId: grant.id },
  };
}
