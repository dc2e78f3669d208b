import { useRef, useState, type ReactNode } from 'react';
import { Dialog } from './Dialog.js';

/** "Are you sure?" for what cannot be undone: the safe choice has focus, the risky one says what it does. */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  cancelLabel = 'Cancel',
  onConfirm,
  onClose,
}: {
  readonly title: string;
  readonly children: ReactNode;
  readonly confirmLabel: string;
  readonly cancelLabel?: string;
  readonly onConfirm: () => Promise<unknown>;
  readonly onClose: () => void;
}) {
  const cancel = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog title={title} description={children} onClose={onClose} initialFocus={cancel} size="small">
      <div className="dialog-actions">
        <button ref={cancel} type="button" className="button" onClick={onClose}>
          {cancelLabel}
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={busy}
          onClick={() => {
            setBusy(true);
            void onConfirm().finally(onClose);
          }}
        >
          {confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
