import { lapseCause, type LapseCause } from '../../../api/lapse-cause.js';
import type { RequestView } from '../../../api/schemas.js';
import type { GrantState } from '../../../preload/contract.js';
import { useApp, useLocalToday } from '../../state/hooks.js';
import { resourceName, type HistoryEntry } from '../../state/selectors.js';
import { clockTime, formatDuration, fullTime } from '../../time/format.js';

const HISTORY_SHOWN = 20;

/** Past grants and refused requests, each with its outcome. */
export function HistoryList({ entries }: { readonly entries: readonly HistoryEntry[] }) {
  const catalog = useApp((app) => app.catalog);
  const offset = useApp((app) => app.clockOffsetMs);
  const grants = useApp((app) => app.grants);
  const today = useLocalToday();
  return (
    <ul className="history-list">
      {entries.slice(0, HISTORY_SHOWN).map((entry) => {
        const item = entry.kind === 'grant' ? entry.grant : entry.request;
        const at = new Date(entry.at).toISOString();
        const outcome =
          entry.kind === 'grant'
            ? grantOutcome(entry.grant)
            : requestOutcome(
                entry.request,
                grants.find((candidate) => candidate.id === entry.request.extendsGrantId),
              );
        return (
          <li key={item.id} className="history-item">
            <span className={`status-pill status-${outcome.tone}`}>{outcome.label}</span>
            <span className="history-what">
              {resourceName(catalog, item.resourceId)} <span className="role-tag">{item.role}</span>
              {outcome.detail ? <span className="history-detail">{outcome.detail}</span> : null}
            </span>
            <time className="history-when" dateTime={at} title={fullTime(at, offset)}>
              {clockTime(at, offset, today)}
            </time>
          </li>
        );
      })}
    </ul>
  );
}

interface Outcome {
  readonly label: string;
  readonly tone: 'ended' | 'denied' | 'neutral';
  readonly detail: string | null;
}

function grantOutcome(grant: GrantState): Outcome {
  const lasted = formatDuration(
    (Date.parse(grant.endedAt ?? grant.expiresAt) - Date.parse(grant.startsAt)) / 1000,
  );
  const detail = `after ${lasted}; ${credentialAfterEnd(grant.credential)}`;
  switch (grant.endReason) {
    case 'relinquished':
      return { label: 'Relinquished', tone: 'ended', detail };
    case 'revoked':
      return { label: 'Revoked', tone: 'denied', detail };
    default:
      return { label: 'Expired', tone: 'ended', detail };
  }
}

/** What became of an ended grant's credential: "removed" only when main says it wiped it. */
function credentialAfterEnd(credential: GrantState['credential']): string {
  switch (credential) {
    case 'stored':
    case 'fetching':
      return 'removing the credential…';
    case 'wiped':
      return 'credential removed from your keychain';
    case 'none':
      return 'no credential was stored';
    case 'failed':
      return 'the credential never reached your keychain';
    case 'kept':
      return 'the credential could not be removed yet: your keychain is locked or not answering';
  }
}

/** `extended`: the grant an extension request was for, when it is known. */
function requestOutcome(request: RequestView, extended: GrantState | undefined): Outcome {
  switch (request.status) {
    case 'denied': {
      const denial = request.decisions.find((decision) => decision.decision === 'deny');
      return {
        label: 'Denied',
        tone: 'denied',
        detail: denial ? `by ${denial.approverId}: “${denial.comment}”` : null,
      };
    }
    case 'lapsed':
      return { label: 'Lapsed', tone: 'neutral', detail: LAPSE_DETAIL[lapseCause(request, extended)] };
    default:
      return { label: 'Cancelled', tone: 'neutral', detail: null };
  }
}

const LAPSE_DETAIL: Readonly<Record<LapseCause, string>> = {
  timeout: 'nobody decided in time',
  grant_revoked: 'its grant was revoked first',
  grant_relinquished: 'its grant was relinquished first',
  grant_expired: 'its grant expired first',
};
