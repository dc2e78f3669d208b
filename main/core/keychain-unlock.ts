import type { KeychainUnlockOutcome, KeychainUnlockResult } from '../../preload/contract.js';

/**
 * Asks the operating system to unlock the keychain (on Linux, the Secret Service's prompt for the login
 * keyring's password). The adapter answers what it checked happened, never what it hoped: `unlocked`
 * only once the keychain says it is unlocked. `detail` is the OS's own words, for the message.
 */
export interface KeychainUnlocker {
  unlock(): Promise<{
    readonly outcome: Exclude<KeychainUnlockOutcome, 'not-offered'>;
    readonly detail: string | null;
  }>;
}

/** What the person is told for each outcome. */
export function unlockResult(
  outcome: KeychainUnlockOutcome,
  detail: string | null = null,
): KeychainUnlockResult {
  const because = detail ? ` (${detail})` : '';
  switch (outcome) {
    case 'unlocked':
      return { outcome, message: 'Your keychain is unlocked. Timebox carries on with what waited for it.' };
    case 'dismissed':
      return {
        outcome,
        message:
          'The unlock prompt was dismissed, or your system could not show it: your keychain is still locked, and what waits for it is kept. Unlock it from your system and Timebox carries on.',
      };
    case 'timed-out':
      return {
        outcome,
        message:
          'Nobody answered the unlock prompt in time: your keychain is still locked. Try again when you are there.',
      };
    case 'no-prompt':
      return {
        outcome,
        message: `Your system could not show an unlock prompt${because}. Unlock the keychain from your system (on Linux, Passwords and Keys, or your desktop's lock screen) and Timebox carries on.`,
      };
    case 'unavailable':
      return {
        outcome,
        message: `The keychain service does not answer${because}, so it cannot be asked to unlock. Start or unlock it from your system and Timebox carries on.`,
      };
    case 'not-offered':
      return {
        outcome,
        message:
          'Timebox cannot ask this system to unlock the keychain: unlock it from your system and Timebox carries on.',
      };
  }
}
