/**
 * A form dialog's last rows: what went wrong, if anything, then Cancel and the submit button (which
 * says what it is doing while the call runs).
 */
export function FormActions({
  error = null,
  onCancel,
  submitLabel,
  busyLabel,
  busy,
  disabled = false,
  danger = false,
}: {
  readonly error?: string | null;
  readonly onCancel: () => void;
  readonly submitLabel: string;
  readonly busyLabel: string;
  readonly busy: boolean;
  readonly disabled?: boolean;
  /** A refusal (deny) rather than a request. */
  readonly danger?: boolean;
}) {
  return (
    <>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          className={danger ? 'button button-danger' : 'button button-primary'}
          disabled={busy || disabled}
        >
          {busy ? busyLabel : submitLabel}
        </button>
      </div>
    </>
  );
}
