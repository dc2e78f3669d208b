import { z } from 'zod';
import type { Keychain } from '../keychain/keychain.js';

/** The keychain service the command files its session under, apart from the desktop app's ("Timebox"). */
export const CLI_KEYCHAIN_SERVICE = 'Timebox CLI';
const SESSION_ACCOUNT = 'session';

const storedSession = z.object({
  server: z.string(),
  token: z.string(),
  expiresAt: z.string(),
  username: z.string(),
});
export type StoredSession = z.output<typeof storedSession>;

/**
 * The signed-in session, kept in the OS keychain and nowhere else: the service it belongs to, its token
 * and whose it is. One session at a time; signing in to another service replaces it.
 */
export class SessionStore {
  constructor(private readonly keychain: Keychain) {}

  async read(): Promise<StoredSession | null> {
    const text = await this.keychain.get(SESSION_ACCOUNT);
    if (text === null) return null;
    try {
      const parsed = storedSession.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      // Not ours, or from a version that kept something else: as good as signed out.
      return null;
    }
  }

  save(session: StoredSession): Promise<void> {
    return this.keychain.set(SESSION_ACCOUNT, JSON.stringify(session));
  }

  forget(): Promise<boolean> {
    return this.keychain.delete(SESSION_ACCOUNT);
  }
}
