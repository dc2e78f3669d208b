import type { ReactNode } from 'react';
import type { GrantState } from '../../preload/contract.js';
import { useRuntime, useTimebox } from '../state/hooks.js';
import { copyCredential } from './Actions.js';

/**
 * The buttons under an active grant, the same wherever it is listed: copy its credential (once it is in
 * the keychain), Extend… when offered, and whatever else the list adds after them.
 */
export function GrantActions({
  grant,
  label,
  offerExtend,
  children,
}: {
  readonly grant: GrantState;
  /** "Resource · role", for the buttons' accessible names. */
  readonly label: string;
  readonly offerExtend: boolean;
  readonly children?: ReactNode;
}) {
  const runtime = useRuntime();
  const openDialog = useTimebox((state) => state.openDialog);
  return (
    <div className="grant-actions">
      <button
        type="button"
        className="button button-small"
        disabled={grant.credential !== 'stored'}
        aria-label={`Copy credential for ${label}`}
        onClick={() => void copyCredential(runtime, grant)}
      >
        Copy credential
      </button>
      {offerExtend ? (
        <button
          type="button"
          className="button button-small"
          aria-label={`Extend ${label}`}
          onClick={() => {
            openDialog({ kind: 'extend', grantId: grant.id });
          }}
        >
          Extend…
        </button>
      ) : null}
      {children}
    </div>
  );
}
