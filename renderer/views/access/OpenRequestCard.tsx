import { useState } from 'react';
import type { RequestView } from '../../../api/schemas.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { useApp, useRuntime, useServiceNow } from '../../state/hooks.js';
import { runCommand } from '../../state/runtime.js';
import { resourceName } from '../../state/selectors.js';
import { clockTime, formatDuration, fullTime, relative } from '../../time/format.js';

/** Where a request of mine stands: whose decision it waits for, or its place in the queue; and Cancel. */
export function OpenRequestCard({ request }: { readonly request: RequestView }) {
  const runtime = useRuntime();
  const name = useApp((app) => resourceName(app.catalog, request.resourceId));
  const offset = useApp((app) => app.clockOffsetMs);
  const serviceNow = useServiceNow();
  const [confirming, setConfirming] = useState(false);
  const label = `${name} · ${request.role}`;
  const queued = request.status === 'queued';
  const waitingFor = request.waitingFor.join(', ') || 'an approver';

  return (
    <article
      className="request-card"
      aria-label={`${request.kind === 'extension' ? 'Extension of' : 'Request for'} ${label}`}
    >
      <header className="request-head">
        <h3 className="request-title">
          {request.kind === 'extension' ? 'More time on ' : ''}
          {name} <span className="role-tag">{request.role}</span>
        </h3>
        <span className={`status-pill ${queued ? 'status-queued' : 'status-pending'}`}>
          {queued ? `Queued · #${request.queuePosition ?? '?'}` : 'Waiting for approval'}
        </span>
      </header>
      <p className="request-detail">
        {queued
          ? `All seats are in use; you are number ${request.queuePosition ?? '?'} in line and get access when a seat frees up.`
          : request.stage && request.stage.total > 1
            ? `Stage ${request.stage.index + 1} of ${request.stage.total} (${request.stage.name}): waiting for ${waitingFor}.`
            : `Waiting for ${waitingFor}.`}{' '}
        For {formatDuration(request.durationSeconds)}; lapses{' '}
        <time dateTime={request.expiresAt} title={fullTime(request.expiresAt, offset)}>
          {relative(request.expiresAt, serviceNow)} (
          {clockTime(request.expiresAt, offset, serviceNow - offset)})
        </time>
        .
      </p>
      <div className="request-actions">
        <button
          type="button"
          className="button button-small"
          aria-label={`Cancel request for ${label}`}
          onClick={() => {
            setConfirming(true);
          }}
        >
          Cancel request…
        </button>
      </div>
      {confirming ? (
        <ConfirmDialog
          title={`Cancel your request for ${label}?`}
          confirmLabel="Cancel request"
          cancelLabel="Keep waiting"
          onConfirm={() =>
            runCommand(runtime, () => runtime.api.cancelRequest({ requestId: request.id }), {
              retry: false,
              success: () => `Cancelled your request for ${label}.`,
            })
          }
          onClose={() => {
            setConfirming(false);
          }}
        >
          {queued ? 'You give up your place in the queue.' : 'Approvers will no longer see it.'}
        </ConfirmDialog>
      ) : null}
    </article>
  );
}
