import { useEffect, useState } from 'react';
import type { AuthMethodsView } from '../../../api/schemas.js';
import { useRuntime } from '../../state/hooks.js';

const PASSWORDS_ONLY: AuthMethodsView = { password: true, oidc: [] };

/**
 * How the service in use signs people in (GET /v1/auth/methods through main), asked again when the
 * service changes. Passwords alone until it answers, or when it cannot be asked.
 */
export function useAuthMethods(serviceUrl: string | null): AuthMethodsView {
  const runtime = useRuntime();
  const [methods, setMethods] = useState<AuthMethodsView>(PASSWORDS_ONLY);
  useEffect(() => {
    let current = true;
    void runtime.api.authMethods({}).then((result) => {
      // Typed as possibly missing: a main that predates the method answers null.
      const answered: AuthMethodsView | null = result.ok ? result.value : null;
      if (current) setMethods(answered ?? PASSWORDS_ONLY);
    });
    return () => {
      current = false;
    };
  }, [runtime, serviceUrl]);
  return methods;
}

/**
 * One button per identity provider: main opens the system browser there (the person's IdP session,
 * passkeys and password manager are in it) and answers when they have signed in, or failed.
 */
export function ProviderButtons(props: {
  readonly providers: AuthMethodsView['oidc'];
  readonly busy: boolean;
  readonly onStart: () => void;
  readonly onDone: (problem: string | null) => void;
}) {
  const runtime = useRuntime();
  if (props.providers.length === 0) return null;
  return (
    <div className="provider-buttons">
      {props.providers.map((provider) => (
        <button
          key={provider.id}
          type="button"
          className="button button-primary button-wide"
          disabled={props.busy}
          onClick={() => {
            props.onStart();
            void runtime.api.signInWithProvider({ provider: provider.id }).then((result) => {
              props.onDone(result.ok ? null : result.error.message);
            });
          }}
        >
          Sign in with {provider.name}
        </button>
      ))}
      {props.busy ? (
        <p className="muted" role="status">
          Finish signing in in your browser…
        </p>
      ) : null}
    </div>
  );
}
