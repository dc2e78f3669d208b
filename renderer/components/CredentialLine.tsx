import { POSTGRES_KIND } from '../../api/credential-kinds.js';
import type { GrantState } from '../../preload/contract.js';

/** Where the grant's credential stands in the keychain, in a few quiet words. */
export function CredentialLine({ grant, live }: { readonly grant: GrantState; readonly live: boolean }) {
  switch (grant.credential) {
    case 'stored':
      return live ? (
        <p className="credential-line credential-ok">
          {grant.credentialKind === POSTGRES_KIND
            ? 'Database login in your keychain.'
            : 'Credential in your keychain.'}
        </p>
      ) : (
        <p className="credential-line">Removing the credential from your keychain…</p>
      );
    case 'fetching':
      return live ? (
        <p className="credential-line">Fetching the credential…</p>
      ) : (
        <p className="credential-line">Removing the credential from your keychain…</p>
      );
    case 'wiped':
      return <p className="credential-line credential-gone">Credential removed from your keychain.</p>;
    case 'none':
      return (
        <p className="credential-line">
          {live ? 'No credential stored yet.' : 'No credential was stored in your keychain.'}
        </p>
      );
    case 'failed':
      return live ? (
        <p className="credential-line credential-failed" role="status">
          {grant.credentialError ?? 'The credential could not be stored.'}
        </p>
      ) : (
        <p className="credential-line">The credential never reached your keychain.</p>
      );
    case 'kept':
      return (
        <p className="credential-line credential-failed" role="status">
          Its credential is still in your keychain:{' '}
          {grant.credentialError ?? 'the keychain refused to delete it.'} Timebox deletes it as soon as the
          keychain lets it.
        </p>
      );
  }
}
