import { useId, useRef, useState } from 'react';
import { grantLabel } from '../../../main/core/tray-model.js';
import { Dialog } from '../../components/Dialog.js';
import { FormActions } from '../../components/FormActions.js';
import { useApp, useRuntime, useServiceNow } from '../../state/hooks.js';
import { findRole } from '../../state/selectors.js';
import { isLive } from '../../time/countdown.js';
import { clockTime, formatDuration } from '../../time/format.js';
import { DurationField } from '../request/DurationField.js';
import { durationPresets, durationProblem, outcomeSentence } from '../request/policy.js';

/** The shortest extension offered, unless the policy's headroom is shorter still. */
const SHORTEST_EXTENSION_SECONDS = 60;

/** More time on a grant, within what its role allows in total (counted from the grant's start). */
export function ExtendDialog({
  grantId,
  onClose,
}: {
  readonly grantId: string;
  readonly onClose: () => void;
}) {
  const id = useId();
  const runtime = useRuntime();
  const grant = useApp((app) => app.grants.find((candidate) => candidate.id === grantId));
  const label = useApp((app) => (grant ? grantLabel(app, grant) : 'this grant'));
  const role = useApp((app) => (grant ? findRole(app.catalog, grant.resourceId, grant.role) : undefined));
  const me = useApp((app) => app.session.user?.id ?? null);
  const offset = useApp((app) => app.clockOffsetMs);
  const serviceNow = useServiceNow();
  const headroom = grant
    ? Math.floor((Date.parse(grant.maxExpiresAt) - Date.parse(grant.expiresAt)) / 1000)
    : 0;
  const min = Math.min(SHORTEST_EXTENSION_SECONDS, headroom);
  const [duration, setDuration] = useState(() =>
    Math.min(headroom, Math.max(min, role?.defaultDurationSeconds ?? 30 * 60)),
  );
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One per dialog: a send repeated after a lost answer is the same extension, never a second one.
  const [idempotencyKey] = useState(() => crypto.randomUUID());
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const live = grant !== undefined && isLive(grant, serviceNow);
  const reasonMissing = role?.reasonRequired === true && reason.trim() === '';

  if (!grant || !live) {
    return (
      <Dialog title="Extend access" onClose={onClose} size="small">
        <p className="dialog-description">
          This grant has ended, so it cannot be extended. Request access again instead.
        </p>
        <div className="dialog-actions">
          <button type="button" className="button" onClick={onClose}>
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  const newEnd = new Date(
    Date.parse(grant.expiresAt) + (Number.isFinite(duration) ? duration : 0) * 1000,
  ).toISOString();
  return (
    <Dialog
      title={`Extend ${label}`}
      description={`Ends at ${clockTime(grant.expiresAt, offset, serviceNow - offset)}; it can run until ${clockTime(grant.maxExpiresAt, offset, serviceNow - offset)} at most.`}
      onClose={onClose}
    >
      {headroom <= 0 ? (
        <>
          <p className="form-error">This grant is already as long as its role allows.</p>
          <div className="dialog-actions">
            <button type="button" className="button" onClick={onClose}>
              Close
            </button>
          </div>
        </>
      ) : (
        <form
          className="form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            if (durationProblem(duration, min, headroom) !== null) return;
            if (reasonMissing) {
              setError('Say why you need more time; approvers read this.');
              reasonRef.current?.focus();
              return;
            }
            setBusy(true);
            void runtime.api
              .extendGrant({ grantId, durationSeconds: duration, reason: reason.trim(), idempotencyKey })
              .then((result) => {
                setBusy(false);
                if (!result.ok) {
                  setError(result.error.message);
                  return;
                }
                runtime.store.getState().showBanner({
                  tone: 'success',
                  text:
                    result.value.kind === 'extended'
                      ? `Extended ${label} until ${clockTime(result.value.grant.expiresAt, offset, Date.now())}.`
                      : `Extension requested for ${label}: waiting for ${result.value.request.waitingFor.join(', ') || 'an approver'}.`,
                });
                onClose();
              });
          }}
        >
          <DurationField
            legend="Add"
            presets={durationPresets({
              minDurationSeconds: min,
              maxDurationSeconds: headroom,
              defaultDurationSeconds: Math.min(headroom, Math.max(min, role?.defaultDurationSeconds ?? min)),
            })}
            min={min}
            max={headroom}
            value={duration}
            onChange={setDuration}
          />
          <div className="field">
            <label htmlFor={`${id}-reason`} className="field-label">
              Reason{role?.reasonRequired === true ? '' : ' (optional)'}
            </label>
            <textarea
              ref={reasonRef}
              id={`${id}-reason`}
              className="input textarea"
              rows={2}
              maxLength={1000}
              value={reason}
              onChange={(event) => {
                setReason(event.target.value);
              }}
            />
          </div>
          <div className="outcome" role="status">
            <span className="outcome-label">What happens:</span>{' '}
            {role
              ? outcomeSentence({ approval: role.approval, seats: null }, me, 'extension')
              : 'The service decides.'}{' '}
            {Number.isFinite(duration)
              ? `New end: ${clockTime(newEnd, offset, serviceNow - offset)} (+${formatDuration(duration)}).`
              : ''}
          </div>
          <FormActions
            error={error}
            onCancel={onClose}
            submitLabel="Extend"
            busyLabel="Extending…"
            busy={busy}
          />
        </form>
      )}
    </Dialog>
  );
}
