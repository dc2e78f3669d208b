import type { GrantState } from '../../preload/contract.js';

/** Where the grant's credential stands in the keychain, in a few quiet words. */
export function CredentialLine({ grant, live }: { readonly grant: GrantState; readonly live: boolean }) {
  if (!live) {
    return grant.credential === 'stored' || grant.credential === 'fetching' ? (
      <p className="credential-line">Removing the credential from your keychain…</p>
    ) : (
      <p className="credential-line credential-gone">Credential removed from your keychain.</p>
    );
  }
  switch (grant.credential) {
    case 'stored':
      return <p className="credential-line credential-ok">Credential in your keychain.</p>;
    case 'fetching':
      return <p className="credential-line">Fetching the credential…</p>;
    case 'failed':
      return (
        <p className="credential-line credential-failed" role="status">
          {grant.credentialError ?? 'The credential could not be stored.'}
        </p>
      );
    case 'wiped':
    case 'none':
      return <p className="credential-line">No credential stored yet.</p>;
  }
}
