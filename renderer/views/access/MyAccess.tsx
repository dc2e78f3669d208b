import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { grantLabel } from '../../../main/core/tray-model.js';
import type { GrantState } from '../../../preload/contract.js';
import type { RequestView } from '../../../api/schemas.js';
import { relinquish } from '../../components/Actions.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { EmptyState } from '../../components/EmptyState.js';
import { KeychainNotice } from '../../components/KeychainNotice.js';
import { useApp, useFromServiceNow, useRuntime, useTimebox } from '../../state/hooks.js';
import { byExpiry, expiredCount, history, openRequests } from '../../state/selectors.js';
import { HistoryList } from './HistoryList.js';
import { LiveGrantList } from './LiveGrantList.js';
import { OpenRequestCard } from './OpenRequestCard.js';

/** My access: what I have (copy, extend, relinquish), what I wait for (cancel), and what happened. */
export function MyAccess() {
  const runtime = useRuntime();
  const app = useApp((state) => state);
  const openDialog = useTimebox((state) => state.openDialog);
  const highlight = useTimebox((state) => state.highlight);
  const [relinquishing, setRelinquishing] = useState<GrantState | null>(null);
  // The view re-renders when a grant ends, not at every tick: each countdown follows the ticker itself.
  const active = useMemo(
    () => byExpiry(app.grants.filter((grant) => grant.status === 'active')),
    [app.grants],
  );
  const expired = useFromServiceNow((serviceNow) => expiredCount(active, serviceNow));
  const { live, past } = useMemo(() => {
    const stillLive = active.slice(expired);
    const isLive = new Set(stillLive);
    return { live: stillLive, past: history(app, (grant) => !isLive.has(grant)) };
  }, [app, active, expired]);
  const waiting = openRequests(app.requests);
  const highlighted = useRef<HTMLLIElement>(null);
  const labelOf = useCallback((grant: GrantState) => grantLabel(app, grant), [app]);

  useEffect(() => {
    // A notification pointed here: show that item.
    highlighted.current?.scrollIntoView({ block: 'nearest' });
  }, [highlight]);
  const isHighlighted = (item: GrantState | RequestView): boolean =>
    item.id === highlight.grantId || item.id === highlight.requestId;

  return (
    <section className="view access" aria-labelledby="access-heading">
      <header className="view-header">
        <h1 id="access-heading">My access</h1>
      </header>
      <KeychainNotice />
      <section aria-labelledby="access-active" className="view-section">
        <h2 id="access-active" className="section-label">
          Active
        </h2>
        {live.length === 0 ? (
          <EmptyState
            title="No active access"
            action={
              <button
                type="button"
                className="button button-primary"
                onClick={() => {
                  openDialog({ kind: 'request' });
                }}
              >
                Request access
              </button>
            }
          >
            Ask for what you need, for as long as you need it; it ends by itself.
          </EmptyState>
        ) : (
          <LiveGrantList
            grants={live}
            labelOf={labelOf}
            onRelinquish={setRelinquishing}
            highlightId={highlight.grantId ?? null}
            highlightRef={highlighted}
          />
        )}
      </section>
      {waiting.length > 0 ? (
        <section aria-labelledby="access-waiting" className="view-section">
          <h2 id="access-waiting" className="section-label">
            Waiting
          </h2>
          <ul className="request-list">
            {waiting.map((request) => (
              <li
                key={request.id}
                ref={isHighlighted(request) ? highlighted : undefined}
                className={isHighlighted(request) ? 'highlighted' : undefined}
              >
                <OpenRequestCard request={request} />
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="access-history" className="view-section">
        <h2 id="access-history" className="section-label">
          History
        </h2>
        {past.length === 0 ? (
          <p className="muted">Ended grants and requests that were not granted show here.</p>
        ) : (
          <HistoryList entries={past} />
        )}
      </section>
      {relinquishing ? (
        <ConfirmDialog
          title={`Relinquish ${grantLabel(app, relinquishing)}?`}
          confirmLabel="Relinquish now"
          cancelLabel="Keep access"
          onConfirm={() => relinquish(runtime, relinquishing, grantLabel(app, relinquishing))}
          onClose={() => {
            setRelinquishing(null);
          }}
        >
          Access ends now and its credential is removed from your keychain. You can request it again later.
        </ConfirmDialog>
      ) : null}
    </section>
  );
}
