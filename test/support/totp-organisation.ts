import { Secret, TOTP } from 'otpauth';
import type { Policy } from '../../server/index.js';
import { demoOrganisation } from './service.js';

/** An engineer with a second factor, beside the demo organisation's people. */
export const TOTP_USER = 'erin';

const TOTP_SECRET = new Secret({ size: 20 }).base32;

/**
 * The demo organisation (everyone's password is "demo") plus erin, an engineer whose sign-in also asks
 * for the 6-digit code of an authenticator app.
 */
export async function organisationWithTotp(): Promise<Policy> {
  const demo = await demoOrganisation();
  const engineer = demo.users.get('alice');
  if (!engineer) throw new Error('the demo organisation has no alice to model erin on');
  return {
    ...demo,
    users: new Map([
      ...demo.users,
      [TOTP_USER, { ...engineer, id: TOTP_USER, displayName: 'Erin Sato', totpSecret: TOTP_SECRET }],
    ]),
  };
}

/** Erin's authenticator app at service time `atMs`. */
export function totpCode(atMs: number): string {
  return new TOTP({ secret: TOTP_SECRET, period: 30, digits: 6, algorithm: 'SHA1' }).generate({
    timestamp: atMs,
  });
}
