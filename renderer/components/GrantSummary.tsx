import type { ReactNode } from 'react';
import type { GrantState } from '../../preload/contract.js';
import { grantLabel } from '../../main/core/tray-model.js';
import { useApp, useServiceNow } from '../state/hooks.js';
import { countdownText, countdownWords, fractionLeft, isLive, remainingMs } from '../time/countdown.js';
import { clockTime, fullTime } from '../time/format.js';
import { CredentialLine } from './CredentialLine.js';

const URGENT_MS = 60_000;
const SOON_MS = 10 * 60_000;

/**
 * A grant with its countdown (text and bar) and exact end time, all read from the shared ticker: it reads
 * as ended the moment its expiry passes on the service's clock.
 */
export function GrantSummary({
  grant,
  headingLevel = 3,
  children,
}: {
  readonly grant: GrantState;
  readonly headingLevel?: 2 | 3;
  readonly children?: ReactNode;
}) {
  const serviceNow = useServiceNow();
  const offset = useApp((app) => app.clockOffsetMs);
  const resourceName = useApp(
    (app) => app.catalog.find((resource) => resource.id === grant.resourceId)?.name ?? grant.resourceId,
  );
  const label = useApp((app) => grantLabel(app, grant));
  const live = isLive(grant, serviceNow);
  const left = remainingMs(grant.expiresAt, serviceNow);
  const urgency = left <= URGENT_MS ? 'urgent' : left <= SOON_MS ? 'soon' : 'calm';
  const Heading = headingLevel === 2 ? 'h2' : 'h3';
  const endIso = grant.endedAt ?? grant.expiresAt;

  return (
    <article className={`grant ${live ? `grant-live grant-${urgency}` : 'grant-ended'}`} aria-label={label}>
      <div className="grant-head">
        <div className="grant-title">
          <Heading className="grant-name">{resourceName}</Heading>
          <p className="grant-meta">
            <span className="role-tag">{grant.role}</span>
            <span>
              {live ? 'until ' : endedWords(grant)}
              <time dateTime={endIso} title={fullTime(endIso, offset)}>
                {clockTime(endIso, offset, serviceNow - offset)}
              </time>
            </span>
          </p>
        </div>
        {live ? (
          <span className="countdown-text" aria-label={countdownWords(left)}>
            {countdownText(left)}
          </span>
        ) : (
          <span className="status-pill status-ended">Ended</span>
        )}
      </div>
      {live ? (
        <div
          className="countdown-bar"
          role="progressbar"
          aria-label={`Time left on ${label}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(fractionLeft(grant, serviceNow) * 100)}
          aria-valuetext={countdownWords(left)}
        >
          <div
            className="countdown-fill"
            style={{ transform: `scaleX(${fractionLeft(grant, serviceNow)})` }}
          />
        </div>
      ) : null}
      <CredentialLine grant={grant} live={live} />
      {children}
    </article>
  );
}

function endedWords(grant: GrantState): string {
  switch (grant.endReason) {
    case 'relinquished':
      return 'relinquished at ';
    case 'revoked':
      return 'revoked at ';
    default:
      return 'expired at ';
  }
}
