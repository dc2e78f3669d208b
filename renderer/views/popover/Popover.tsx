import { useMemo } from 'react';
import { grantLabel } from '../../../main/core/tray-model.js';
import { BannerBar } from '../../components/BannerBar.js';
import { EmptyState } from '../../components/EmptyState.js';
import { GrantActions } from '../../components/GrantActions.js';
import { GrantSummary } from '../../components/GrantSummary.js';
import { KeychainNotice } from '../../components/KeychainNotice.js';
import { StatusLine } from '../../components/StatusLine.js';
import { useApp, useFromServiceNow, useTimebox } from '../../state/hooks.js';
import { byExpiry, expiredCount, recentlyEnded } from '../../state/selectors.js';

/** How long an ended grant stays in the popover, so the user sees that it ended and that its credential went. */
const ENDED_SHOWN_FOR_MS = 15 * 60_000;
/** The popover offers Extend when a grant is this close to its end. */
const OFFER_EXTEND_WITHIN_MS = 10 * 60_000;

/** The tray popover: what I have right now, what waits for me, and the one button to ask for more. */
export function Popover() {
  const app = useApp((state) => state);
  const openSection = useTimebox((state) => state.openSection);
  const openDialog = useTimebox((state) => state.openDialog);
  // The popover re-renders when time changes what it lists: a grant ends, comes within reach of Extend,
  // or leaves "Recently ended". Not at every tick: each countdown follows the ticker itself.
  const active = useMemo(
    () => byExpiry(app.grants.filter((grant) => grant.status === 'active')),
    [app.grants],
  );
  const expired = useFromServiceNow((serviceNow) => expiredCount(active, serviceNow));
  const withinExtendReach = useFromServiceNow((serviceNow) =>
    expiredCount(active, serviceNow + OFFER_EXTEND_WITHIN_MS),
  );
  const endedIds = useFromServiceNow((serviceNow) =>
    recentlyEnded(app.grants, serviceNow, ENDED_SHOWN_FOR_MS)
      .map((grant) => grant.id)
      .join(' '),
  );
  const live = active.slice(expired);
  const ended = useMemo(() => {
    const byId = new Map(app.grants.map((grant) => [grant.id, grant]));
    return endedIds === '' ? [] : endedIds.split(' ').flatMap((id) => byId.get(id) ?? []);
  }, [app.grants, endedIds]);
  const waiting = app.approvals.length;

  return (
    <div className="popover">
      <header className="popover-header">
        <h1 className="app-title">Timebox</h1>
        <span className="popover-user">{app.session.user?.displayName}</span>
        <button
          type="button"
          className="icon-button"
          aria-label="Settings"
          onClick={() => {
            openSection('settings');
          }}
        >
          <svg viewBox="0 0 16 16" aria-hidden="true" className="icon">
            <path d="M8 5.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5Zm6.3 3.4-1.4.3a5 5 0 0 1-.5 1.2l.8 1.2-1.3 1.3-1.2-.8a5 5 0 0 1-1.2.5l-.3 1.4H7.1l-.3-1.4a5 5 0 0 1-1.2-.5l-1.2.8-1.3-1.3.8-1.2a5 5 0 0 1-.5-1.2l-1.4-.3V7.1l1.4-.3c.1-.4.3-.8.5-1.2l-.8-1.2 1.3-1.3 1.2.8c.4-.2.8-.4 1.2-.5l.3-1.4h1.8l.3 1.4c.4.1.8.3 1.2.5l1.2-.8 1.3 1.3-.8 1.2c.2.4.4.8.5 1.2l1.4.3Z" />
          </svg>
        </button>
      </header>
      <StatusLine />
      <KeychainNotice />
      <BannerBar />
      {waiting > 0 ? (
        <button
          type="button"
          className="callout"
          onClick={() => {
            openSection('approvals');
          }}
        >
          <span className="callout-count">{waiting}</span>
          <span className="callout-text">{waiting === 1 ? 'approval waiting' : 'approvals waiting'}</span>
          <span className="callout-go" aria-hidden="true">
            Review ›
          </span>
        </button>
      ) : null}
      <section className="popover-grants" aria-labelledby="popover-active-heading">
        <h2 id="popover-active-heading" className="section-label">
          Active access
        </h2>
        {live.length === 0 ? (
          <EmptyState title="No active access">Ask when you need it; access ends by itself.</EmptyState>
        ) : (
          <ul className="grant-list">
            {live.map((grant, index) => {
              const label = grantLabel(app, grant);
              return (
                <li key={grant.id}>
                  <GrantSummary grant={grant}>
                    <GrantActions
                      grant={grant}
                      label={label}
                      // `live` is sorted by expiry: the first ones end within Extend's reach.
                      offerExtend={expired + index < withinExtendReach}
                    />
                  </GrantSummary>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      {ended.length > 0 ? (
        <section className="popover-grants" aria-labelledby="popover-ended-heading">
          <h2 id="popover-ended-heading" className="section-label">
            Recently ended
          </h2>
          <ul className="grant-list grant-list-ended">
            {ended.map((grant) => (
              <li key={grant.id}>
                <GrantSummary grant={grant} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <footer className="popover-footer">
        <button
          type="button"
          className="button button-primary button-wide"
          onClick={() => {
            openDialog({ kind: 'request' });
          }}
        >
          Request access
        </button>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            openSection('access');
          }}
        >
          My access and history
        </button>
      </footer>
    </div>
  );
}
