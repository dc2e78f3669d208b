import { useId, useMemo, useRef, useState } from 'react';
import type { RequestView } from '../../../api/schemas.js';
import { Dialog } from '../../components/Dialog.js';
import { FormActions } from '../../components/FormActions.js';
import { EmptyState } from '../../components/EmptyState.js';
import { useApp, useRuntime } from '../../state/hooks.js';
import { runCommand } from '../../state/runtime.js';
import { findRole, resourceName } from '../../state/selectors.js';
import { clockTime } from '../../time/format.js';
import { DurationField } from './DurationField.js';
import { durationPresets, durationProblem, ticketProblem } from './policy.js';
import { PreviewOutcome } from './PreviewOutcome.js';
import { usePreview } from './usePreview.js';
import { requestableChoices, ResourcePicker, type RoleChoice } from './ResourcePicker.js';

/**
 * Ask for access: pick a resource and role, say for how long and why (and the ticket when the policy wants
 * one), and see what will happen before sending.
 */
export function RequestDialog({
  resourceId,
  role,
  onClose,
}: {
  readonly resourceId?: string;
  readonly role?: string;
  readonly onClose: () => void;
}) {
  const runtime = useRuntime();
  const catalog = useApp((app) => app.catalog);
  const me = useApp((app) => app.session.user?.id ?? null);
  const connection = useApp((app) => app.connection.status);
  const choices = useMemo(() => requestableChoices(catalog), [catalog]);
  const [selected, setSelected] = useState<RoleChoice | null>(
    () => choices.find((choice) => choice.resource.id === resourceId && choice.role.name === role) ?? null,
  );
  const picker = useRef<HTMLInputElement>(null);
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const [sending, setSending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // One per dialog: a send repeated after a lost answer is the same request, never a second one.
  const [idempotencyKey] = useState(() => crypto.randomUUID());

  return (
    <Dialog title="Request access" onClose={onClose} initialFocus={selected ? reasonRef : picker}>
      {choices.length === 0 ? (
        <EmptyState
          tone={connection === 'live' ? 'neutral' : 'loading'}
          title={connection === 'live' ? 'Nothing you can request' : 'Loading resources…'}
          action={
            <button
              type="button"
              className="button"
              onClick={() => void runCommand(runtime, () => runtime.api.refresh({}))}
            >
              Refresh
            </button>
          }
        >
          {connection === 'live'
            ? 'The policy gives you no roles to ask for. Ask a Timebox administrator.'
            : 'The catalog arrives once the service answers.'}
        </EmptyState>
      ) : (
        <>
          <ResourcePicker
            choices={choices}
            selected={selected}
            onSelect={(choice) => {
              setSelected(choice);
              setError(null);
            }}
            inputRef={picker}
          />
          <RequestForm
            key={selected ? `${selected.resource.id}/${selected.role.name}` : 'none'}
            selected={selected}
            me={me}
            reasonRef={reasonRef}
            sending={sending}
            error={error}
            onCancel={onClose}
            onSend={async (args) => {
              setSending(true);
              setError(null);
              const result = await runtime.api.requestAccess({ ...args, idempotencyKey });
              setSending(false);
              if (!result.ok) {
                setError(result.error.message);
                return;
              }
              const state = runtime.store.getState();
              state.showBanner({
                tone: 'success',
                text: sentAnswer(result.value, catalog, state.app?.clockOffsetMs ?? 0),
              });
              onClose();
              if (state.windowKind === 'main') state.openSection('access');
            }}
          />
        </>
      )}
    </Dialog>
  );
}

/** What the service did with the request, in one line. */
function sentAnswer(
  request: RequestView,
  catalog: Parameters<typeof resourceName>[0],
  clockOffsetMs: number,
): string {
  const what = `${resourceName(catalog, request.resourceId)} · ${request.role}`;
  switch (request.status) {
    case 'approved':
      return `Access granted: ${what}.`;
    case 'queued':
      return `Queued for ${what}: position ${request.queuePosition ?? '?'}. You will be told when a seat frees up.`;
    case 'pending':
      return `Request sent: ${what}. Waiting for ${request.waitingFor.join(', ') || 'an approver'}; it lapses at ${clockTime(request.expiresAt, clockOffsetMs, Date.now())}.`;
    default:
      return `Request ${request.status}: ${what}.`;
  }
}

interface RequestFormProps {
  readonly selected: RoleChoice | null;
  readonly me: string | null;
  readonly reasonRef: React.RefObject<HTMLTextAreaElement | null>;
  readonly sending: boolean;
  readonly error: string | null;
  readonly onCancel: () => void;
  readonly onSend: (args: {
    resourceId: string;
    role: string;
    durationSeconds: number;
    reason: string;
    ticket?: string;
  }) => Promise<void>;
}

/** The form for one chosen role (it starts afresh, at the role's default, when the choice changes). */
function RequestForm({ selected, me, reasonRef, sending, error, onCancel, onSend }: RequestFormProps) {
  const id = useId();
  const role = selected?.role ?? null;
  const [duration, setDuration] = useState(role?.defaultDurationSeconds ?? Number.NaN);
  const [reason, setReason] = useState('');
  const [ticket, setTicket] = useState('');
  const [touched, setTouched] = useState({ reason: false, ticket: false, submitted: false });
  const liveRole = useApp((app) =>
    selected ? findRole(app.catalog, selected.resource.id, selected.role.name) : undefined,
  );

  const durationIssue = role
    ? durationProblem(duration, role.minDurationSeconds, role.maxDurationSeconds)
    : null;
  const reasonIssue =
    role?.reasonRequired && reason.trim() === '' ? 'Say why you need it; approvers read this.' : null;
  const ticketIssue = role ? ticketProblem(ticket, role.ticketPattern) : null;
  const showTicketIssue = ticketIssue !== null && (ticket !== '' || touched.submitted);
  const showReasonIssue = reasonIssue !== null && (touched.reason || touched.submitted);
  const ready = selected !== null && durationIssue === null && reasonIssue === null && ticketIssue === null;
  // Asked as soon as the request could be sent at all: the reason and ticket as typed so far.
  const preview = usePreview(
    selected && durationIssue === null
      ? {
          resourceId: selected.resource.id,
          role: selected.role.name,
          durationSeconds: duration,
          reason: reason.trim(),
          ...(role?.ticketPattern && ticket.trim() ? { ticket: ticket.trim() } : {}),
        }
      : null,
  );

  return (
    <form
      className="form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        setTouched((current) => ({ ...current, submitted: true }));
        if (!selected || !ready) return;
        void onSend({
          resourceId: selected.resource.id,
          role: selected.role.name,
          durationSeconds: duration,
          reason: reason.trim(),
          ...(role?.ticketPattern ? { ticket: ticket.trim() } : {}),
        });
      }}
    >
      {selected && role ? (
        <>
          <p className="role-description">{role.description || selected.resource.description}</p>
          <DurationField
            legend="For how long"
            presets={durationPresets(role)}
            min={role.minDurationSeconds}
            max={role.maxDurationSeconds}
            value={duration}
            onChange={setDuration}
          />
          <div className="field">
            <label htmlFor={`${id}-reason`} className="field-label">
              Reason{role.reasonRequired ? '' : ' (optional)'}
            </label>
            <textarea
              ref={reasonRef}
              id={`${id}-reason`}
              className="input textarea"
              rows={2}
              maxLength={1000}
              value={reason}
              required={role.reasonRequired}
              aria-invalid={showReasonIssue}
              aria-describedby={showReasonIssue ? `${id}-reason-error` : undefined}
              onChange={(event) => {
                setReason(event.target.value);
              }}
              onBlur={() => {
                setTouched((current) => ({ ...current, reason: true }));
              }}
            />
            {showReasonIssue ? (
              <span id={`${id}-reason-error`} className="field-error">
                {reasonIssue}
              </span>
            ) : null}
          </div>
          {role.ticketPattern ? (
            <div className="field">
              <label htmlFor={`${id}-ticket`} className="field-label">
                Ticket
              </label>
              <input
                id={`${id}-ticket`}
                className="input"
                type="text"
                maxLength={200}
                autoComplete="off"
                spellCheck={false}
                required
                value={ticket}
                placeholder={role.ticketPattern}
                aria-invalid={showTicketIssue}
                aria-describedby={`${id}-ticket-hint`}
                onChange={(event) => {
                  setTicket(event.target.value);
                }}
              />
              <span id={`${id}-ticket-hint`} className={showTicketIssue ? 'field-error' : 'field-hint'}>
                {showTicketIssue
                  ? ticketIssue
                  : ticketIssue === null
                    ? 'Looks right.'
                    : `Format: ${role.ticketPattern}`}
              </span>
            </div>
          ) : null}
          <PreviewOutcome preview={preview} role={liveRole ?? role} me={me} />
        </>
      ) : (
        <p className="field-hint">Choose what you need access to; the form for it follows.</p>
      )}
      <FormActions
        error={error}
        onCancel={onCancel}
        submitLabel={selected?.role.approval.mode === 'auto' ? 'Get access' : 'Send request'}
        busyLabel="Sending…"
        busy={sending}
        disabled={selected === null}
      />
    </form>
  );
}
