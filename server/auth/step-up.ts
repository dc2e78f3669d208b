import { ApiError } from '../lib/errors.js';
import type { Policy } from '../policy/types.js';
import type { Session } from './sessions.js';

/**
 * A role that asks for MFA or a recent sign-in (`mfa: required`, `freshAuth`) refuses a session without
 * it with 401 `step_up_required`: the client signs in again at the provider with `max_age` (the IdP
 * then asks for the person's factors again) and retries. Password sessions step up with their TOTP code.
 */
export function assertStepUp(
  policy: Policy,
  session: Session,
  target: { readonly resourceId: string; readonly role: string },
  now: number,
): void {
  const role = policy.resources.get(target.resourceId)?.roles.get(target.role);
  if (!role) return; // an unknown role is refused by the request itself
  const missingMfa = role.mfaRequired && !session.mfa;
  const maxAge = role.freshAuthSeconds;
  const stale = maxAge !== null && now - session.authTime > maxAge * 1000;
  if (!missingMfa && !stale) return;
  const provider = session.authMethod.startsWith('oidc:') ? session.authMethod.slice('oidc:'.length) : null;
  const why = missingMfa
    ? 'needs a sign-in with a second factor'
    : `needs a sign-in within the last ${Math.round((maxAge ?? 0) / 60)} minutes`;
  throw new ApiError(
    401,
    'step_up_required',
    `${target.resourceId}/${target.role} ${why}; sign in again${provider === null ? ' with your authenticator code' : ''} and retry.`,
    { provider, maxAgeSeconds: maxAge ?? 0, mfa: role.mfaRequired },
  );
}
