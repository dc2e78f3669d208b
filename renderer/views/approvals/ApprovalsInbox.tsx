import { useEffect, useRef, useState } from 'react';
import type { RequestView } from '../../../api/schemas.js';
import type { AppState } from '../../../preload/contract.js';
import { EmptyState } from '../../components/EmptyState.js';
import { useApp, useRuntime, useServiceNow, useTimebox } from '../../state/hooks.js';
import { runCommand } from '../../state/runtime.js';
import { findRole, resourceName } from '../../state/selectors.js';
import { clockTime, formatDuration, fullTime, relative } from '../../time/format.js';
import { DenyDialog } from './DenyDialog.js';

/** Keys that act on the selected request; ignored while typing in a field. */
const SHORTCUTS = {
  next: ['j', 'ArrowDown'],
  previous: ['k', 'ArrowUp'],
  approve: ['a'],
  deny: ['d'],
} as const;

function isTyping(target: EventTarget | null): boolean {
  return (
    target instanceof HTMLElement &&
    (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))
  );
}

/**
 * The requests I may decide: who asks, for what, how long, why, the ticket, when it lapses and the stage
 * of a chain. Approve in one click (or A), deny with a comment (D); J and K move between requests.
 */
export function ApprovalsInbox() {
  const runtime = useRuntime();
  const approvals = useApp((app) => app.approvals);
  const catalog = useApp((app) => app.catalog);
  const highlight = useTimebox((state) => state.highlight.requestId);
  const [selectedId, setSelectedId] = useState<string | null>(highlight ?? null);
  // A new target from main (a notification was clicked) selects that request.
  const [followedHighlight, setFollowedHighlight] = useState(highlight);
  if (highlight !== followedHighlight) {
    setFollowedHighlight(highlight);
    if (highlight !== undefined) setSelectedId(highlight);
  }
  const [denying, setDenying] = useState<RequestView | null>(null);
  const [busyId, setBusyId] = useState<string | null>(null);
  const items = useRef(new Map<string, HTMLElement>());

  const selectedIndex = Math.max(
    0,
    approvals.findIndex((request) => request.id === selectedId),
  );
  const selected = approvals[selectedIndex] ?? null;
  const what = (request: RequestView): string =>
    `${resourceName(catalog, request.resourceId)} · ${request.role} for ${formatDuration(request.durationSeconds)}`;

  useEffect(() => {
    // A notification pointed at this request: bring it into view and give it focus.
    if (highlight === undefined) return;
    const element = items.current.get(highlight);
    element?.scrollIntoView({ block: 'nearest' });
    element?.focus();
  }, [highlight]);

  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    // A decided request leaves the list, and with it the focus: put it on the next request, or the heading.
    if (denying !== null || (document.activeElement !== document.body && document.activeElement !== null))
      return;
    const target = (selected ? items.current.get(selected.id) : undefined) ?? heading.current;
    target?.focus();
  }, [approvals, selected, denying]);

  const approve = async (request: RequestView): Promise<void> => {
    setBusyId(request.id);
    const next = approvals[approvals.indexOf(request) + 1] ?? approvals[approvals.indexOf(request) - 1];
    const done = await runCommand(runtime, () => runtime.api.approve({ requestId: request.id }), {
      retry: false,
      success: (decided) =>
        decided.status === 'pending'
          ? `Approved your stage of ${decided.requesterId}’s request; it moves on to ${decided.stage?.name ?? 'the next approver'}.`
          : `Approved ${decided.requesterId}’s request for ${what(decided)}.`,
    });
    setBusyId(null);
    if (done && next) focusRequest(next.id);
  };

  const deny = async (request: RequestView, comment: string): Promise<string | null> => {
    const result = await runtime.api.deny({ requestId: request.id, comment });
    if (!result.ok) return result.error.message;
    runtime.store
      .getState()
      .showBanner({ tone: 'success', text: `Denied ${request.requesterId}’s request for ${what(request)}.` });
    return null;
  };

  const focusRequest = (id: string): void => {
    setSelectedId(id);
    items.current.get(id)?.focus();
  };

  // The shortcuts work wherever focus is in the window while the inbox shows, except in a field or a dialog.
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return;
      if (isTyping(event.target) || denying !== null || runtime.store.getState().dialog !== null || !selected)
        return;
      const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
      const matches = (names: readonly string[]): boolean => names.includes(key);
      if (matches(SHORTCUTS.next) || matches(SHORTCUTS.previous)) {
        event.preventDefault();
        const delta = matches(SHORTCUTS.next) ? 1 : -1;
        const target = approvals[Math.min(approvals.length - 1, Math.max(0, selectedIndex + delta))];
        if (target) focusRequest(target.id);
      } else if (matches(SHORTCUTS.approve) && busyId === null) {
        event.preventDefault();
        void approve(selected);
      } else if (matches(SHORTCUTS.deny)) {
        event.preventDefault();
        setDenying(selected);
      }
    };
    document.addEventListener('keydown', onKeyDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
    };
  });

  return (
    <section className="view approvals" aria-labelledby="approvals-heading">
      <header className="view-header">
        <h1 id="approvals-heading" ref={heading} tabIndex={-1}>
          Approvals
        </h1>
        {approvals.length > 0 ? (
          <p className="shortcut-hint" id="approvals-shortcuts">
            <kbd>J</kbd>/<kbd>K</kbd> move · <kbd>A</kbd> approve · <kbd>D</kbd> deny
          </p>
        ) : null}
      </header>
      {approvals.length === 0 ? (
        <EmptyState
          title="Nothing waits for you"
          action={
            <button
              type="button"
              className="button"
              onClick={() => void runCommand(runtime, () => runtime.api.refresh({}))}
            >
              Check again
            </button>
          }
        >
          Requests you can decide appear here, and Timebox notifies you when one arrives.
        </EmptyState>
      ) : (
        <ul className="request-list" aria-label="Requests waiting for your decision">
          {approvals.map((request) => (
            <li key={request.id}>
              <ApprovalItem
                request={request}
                what={what(request)}
                selected={request === selected}
                busy={busyId === request.id}
                register={(element) => {
                  if (element) items.current.set(request.id, element);
                  else items.current.delete(request.id);
                }}
                onSelect={() => {
                  setSelectedId(request.id);
                }}
                onApprove={() => void approve(request)}
                onDeny={() => {
                  setDenying(request);
                }}
              />
            </li>
          ))}
        </ul>
      )}
      {denying ? (
        <DenyDialog
          request={denying}
          what={`${denying.requesterId} asks for ${what(denying)}.`}
          onDeny={(comment) => deny(denying, comment)}
          onClose={() => {
            setDenying(null);
          }}
        />
      ) : null}
    </section>
  );
}

function ApprovalItem({
  request,
  what,
  selected,
  busy,
  register,
  onSelect,
  onApprove,
  onDeny,
}: {
  readonly request: RequestView;
  readonly what: string;
  readonly selected: boolean;
  readonly busy: boolean;
  readonly register: (element: HTMLElement | null) => void;
  readonly onSelect: () => void;
  readonly onApprove: () => void;
  readonly onDeny: () => void;
}) {
  const serviceNow = useServiceNow();
  const offset = useApp((app) => app.clockOffsetMs);
  const overriding = useApp((app) => decidesAsAdministrator(app, request));
  const approvalsSoFar = request.decisions.filter((decision) => decision.decision === 'approve');
  return (
    <article
      ref={register}
      className={`request-card${selected ? ' request-selected' : ''}`}
      tabIndex={selected ? 0 : -1}
      aria-label={`${request.requesterId} asks for ${what}`}
      aria-describedby="approvals-shortcuts"
      aria-current={selected ? 'true' : undefined}
      onFocus={onSelect}
    >
      <header className="request-head">
        <h2 className="request-title">
          <span className="requester">{request.requesterId}</span> asks for {what}
        </h2>
        {request.kind === 'extension' ? <span className="status-pill">Extension</span> : null}
      </header>
      <dl className="facts">
        <dt>Why</dt>
        <dd>{request.reason || <span className="muted">No reason given</span>}</dd>
        {request.ticket ? (
          <>
            <dt>Ticket</dt>
            <dd className="mono">{request.ticket}</dd>
          </>
        ) : null}
        {request.outsideConditions.length > 0 ? (
          <>
            <dt>Outside</dt>
            <dd>{request.outsideConditions.join(' ')}</dd>
          </>
        ) : null}
        {request.stage && request.stage.total > 1 ? (
          <>
            <dt>Stage</dt>
            <dd>
              {request.stage.index + 1} of {request.stage.total}: {request.stage.name}
              {request.stage.escalated ? ' (escalated)' : ''}
            </dd>
          </>
        ) : null}
        {request.stage && request.stage.approvalsNeeded > 1 ? (
          <>
            <dt>Approvals</dt>
            <dd>
              {request.stage.approvalsGiven} of {request.stage.approvalsNeeded}
            </dd>
          </>
        ) : null}
        {overriding ? (
          <>
            <dt>Why you</dt>
            <dd>
              Nobody the policy names can complete this stage any more; as an administrator, your approval
              completes it.
            </dd>
          </>
        ) : null}
        {approvalsSoFar.length > 0 ? (
          <>
            <dt>Approved by</dt>
            <dd>{approvalsSoFar.map((decision) => decision.approverId).join(', ')}</dd>
          </>
        ) : null}
        <dt>Lapses</dt>
        <dd>
          <time dateTime={request.expiresAt} title={fullTime(request.expiresAt, offset)}>
            {relative(request.expiresAt, serviceNow)} (
            {clockTime(request.expiresAt, offset, serviceNow - offset)})
          </time>
        </dd>
      </dl>
      <div className="request-actions">
        <button type="button" className="button button-primary" disabled={busy} onClick={onApprove}>
          {busy ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" className="button" disabled={busy} onClick={onDeny}>
          Deny…
        </button>
      </div>
    </article>
  );
}

/**
 * Whether I am asked only as an administrator: the service escalated a request nobody the policy names can
 * finish any more, and I am neither an approver nor an escalation approver of its stage.
 */
function decidesAsAdministrator(app: AppState, request: RequestView): boolean {
  const me = app.session.user;
  if (!me?.isAdmin || !request.stage?.escalated) return false;
  const stage = findRole(app.catalog, request.resourceId, request.role)?.approval.stages[request.stage.index];
  return (
    stage !== undefined &&
    !stage.approvers.includes(me.id) &&
    !(stage.escalation?.approvers.includes(me.id) ?? false)
  );
}
