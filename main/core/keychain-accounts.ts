/** The desktop app's accounts under its keychain service: its session, and one per grant's credential. */
export const SESSION_ACCOUNT = 'session';
export const grantAccount = (grantId: string): string => `grant:${grantId}`;
export const GRANT_ACCOUNT_PREFIX = 'grant:';
