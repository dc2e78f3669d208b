import { useId, useRef, useState } from 'react';
import type { RequestView } from '../../../api/schemas.js';
import { Dialog } from '../../components/Dialog.js';
import { FormActions } from '../../components/FormActions.js';

/** Deny with the comment the service requires: the requester reads it to know what to do next. */
export function DenyDialog({
  request,
  what,
  onDeny,
  onClose,
}: {
  readonly request: RequestView;
  readonly what: string;
  /** Resolves to an error sentence, or null when the denial went through. */
  readonly onDeny: (comment: string) => Promise<string | null>;
  readonly onClose: () => void;
}) {
  const id = useId();
  const comment = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  return (
    <Dialog
      title={`Deny ${request.requesterId}’s request`}
      description={what}
      onClose={onClose}
      initialFocus={comment}
      size="small"
    >
      <form
        className="form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          if (text.trim() === '') {
            setProblem(`A denial needs a comment: tell ${request.requesterId} why, or what to do instead.`);
            comment.current?.focus();
            return;
          }
          setBusy(true);
          void onDeny(text.trim()).then((failure) => {
            setBusy(false);
            if (failure === null) onClose();
            else setProblem(failure);
          });
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-comment`} className="field-label">
            Comment (required)
          </label>
          <textarea
            ref={comment}
            id={`${id}-comment`}
            className="input textarea"
            rows={3}
            maxLength={1000}
            required
            value={text}
            aria-invalid={problem !== null}
            aria-describedby={problem ? `${id}-problem` : `${id}-hint`}
            onChange={(event) => {
              setText(event.target.value);
              if (event.target.value.trim() !== '') setProblem(null);
            }}
          />
          {problem ? (
            <span id={`${id}-problem`} className="field-error" role="alert">
              {problem}
            </span>
          ) : (
            <span id={`${id}-hint`} className="field-hint">
              {request.requesterId} sees this with the denial.
            </span>
          )}
        </div>
        <FormActions onCancel={onClose} submitLabel="Deny request" busyLabel="Denying…" busy={busy} danger />
      </form>
    </Dialog>
  );
}
