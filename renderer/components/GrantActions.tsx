import type { ReactNode } from 'react';
import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import type { GrantState } from '../../preload/contract.js';
import { useRuntime, useTimebox } from '../state/hooks.js';
import { copyConnectionUri, copyCredential, openPsql } from './Actions.js';

/**
 * The buttons under an active grant, the same wherever it is listed: its credential's own (Copy
 * connection URI and Open psql for a database login, Copy credential otherwise) once it is in the
 * keychain, Extend… when offered, and whatever else the list adds after them.
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
  const stored = grant.credential === 'stored';
  return (
    <div className="grant-actions">
      {stored && grant.credentialKind === POSTGRES_KIND ? (
        <>
          <button
            type="button"
            className="button button-small"
            aria-label={`Copy connection URI for ${label}`}
            onClick={() => void copyConnectionUri(runtime, grant)}
          >
            Copy connection URI
          </button>
          <button
            type="button"
            className="button button-small"
            aria-label={`Open psql for ${label}`}
            onClick={() => void openPsql(runtime, grant, label)}
          >
            Open psql
          </button>
        </>
      ) : (
        <button
          type="button"
          className="button button-small"
          disabled={!stored}
          aria-label={`Copy credential for ${label}`}
          onClick={() => void copyCredential(runtime, grant)}
        >
          Copy credential
        </button>
      )}
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
