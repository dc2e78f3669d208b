// First: the private keyring, before anything calls keytar (see the module).
import { privateKeyring } from '../support/private-keyring-session.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startService, type RunningService } from '../support/service.js';
import { buildTimebox, runTimebox, type BuiltCommand } from '../support/timebox-command.js';

if (!privateKeyring)
  console.warn('keychain-locked.test.ts: no dbus-daemon, gnome-keyring-daemon or gdbus here.');

/** `timebox` with a locked keychain: a sentence and exit 1, never a crash, never a plain-file fallback. */
describe.runIf(privateKeyring !== null)('timebox with a locked keychain', () => {
  const keyring = privateKeyring;
  if (!keyring) return;
  let timebox: BuiltCommand;
  let service: RunningService;
  let env: Record<string, string>;

  beforeAll(async () => {
    timebox = buildTimebox();
    service = await startService({ kind: 'pglite' });
    // The commands reach the private keyring through this process's environment, set by its module.
    env = { TIMEBOX_SERVER: service.url, TIMEBOX_KEYCHAIN_SERVICE: 'Timebox-cli-locked' };
  });
  afterEach(async () => {
    if (await keyring.locked()) await keyring.unlock();
  });
  afterAll(async () => {
    await service.stop();
    timebox.remove();
    keyring.stop();
  });

  it('refuses to read or store a session while locked, says to unlock, and carries on once unlocked', async () => {
    const login = await runTimebox(timebox, ['login', '-u', 'alice'], env, 'demo\n');
    expect(login.code, login.stderr).toBe(0);
    await keyring.lock();

    const ls = await runTimebox(timebox, ['ls'], env);
    expect(ls.code).toBe(1);
    expect(ls.signal).toBeNull(); // keytar is never called on a locked collection, so nothing crashes
    expect(ls.stderr).toMatch(/^timebox: Your keychain is locked\. Unlock it/);

    // Refused before the password is asked for, and nothing is stored anywhere else.
    const again = await runTimebox(timebox, ['login', '-u', 'dave'], env, 'demo\n');
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^timebox: Your keychain is locked/);
    expect(again.stderr).not.toContain('Password:');

    await keyring.unlock();
    const whoami = await runTimebox(timebox, ['whoami'], env);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(/^alice /); // dave's sign-in did not replace it
    expect((await runTimebox(timebox, ['logout'], env)).code).toBe(0);
  });
});
