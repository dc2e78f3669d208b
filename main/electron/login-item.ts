import { rm, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AppState, StateUpdate } from '../../preload/contract.js';
import type { CoreLogger } from '../core/timebox.js';

/** Passed when the OS starts Timebox at login: it starts in the tray, without opening a window. */
export const HIDDEN_ARGUMENT = '--hidden';

export interface LoginItemDeps {
  readonly app: {
    readonly isPackaged: boolean;
    setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
  };
  readonly platform: NodeJS.Platform;
  /** The program the login item starts: the AppImage when running from one, else the executable. */
  readonly executable: string;
  /** ~/.config/autostart on Linux. */
  readonly autostartDir: string;
  readonly log: CoreLogger;
}

const AUTOSTART_FILE = 'dev.timebox.app.desktop';

/**
 * Registers Timebox to start at login, or not. macOS and Windows through app.setLoginItemSettings; Linux
 * has no such API in Electron (https://www.electronjs.org/docs/latest/api/app#appsetloginitemsettingssettings-macos-windows),
 * so there it is an XDG autostart entry (https://specifications.freedesktop.org/autostart-spec/latest/).
 * A development run registers nothing: it would start a bare Electron at every login.
 */
export async function applyLaunchAtLogin(enabled: boolean, deps: LoginItemDeps): Promise<void> {
  if (!deps.app.isPackaged) {
    deps.log.info({ enabled }, 'launch at login applies to installed builds only; not registered');
    return;
  }
  if (deps.platform === 'linux') {
    const file = join(deps.autostartDir, AUTOSTART_FILE);
    if (!enabled) {
      await rm(file, { force: true });
      return;
    }
    await mkdir(deps.autostartDir, { recursive: true });
    await writeFile(file, autostartEntry(deps.executable));
    return;
  }
  deps.app.setLoginItemSettings({
    openAtLogin: enabled,
    // Windows passes these to the program; macOS says so instead with wasOpenedAtLogin.
    ...(deps.platform === 'win32' ? { args: [HIDDEN_ARGUMENT] } : {}),
  });
}

/** Applies the setting now, then whenever it changes. Returns the unsubscribe. */
export function followLaunchAtLogin(
  store: {
    readonly state: AppState;
    subscribe(listener: (update: StateUpdate) => void): () => void;
  },
  deps: LoginItemDeps,
): () => void {
  let applied: boolean | null = null;
  const apply = (enabled: boolean): void => {
    if (enabled === applied) return;
    applied = enabled;
    applyLaunchAtLogin(enabled, deps).catch((error: unknown) => {
      applied = null;
      deps.log.warn(
        { enabled, error: error instanceof Error ? error.message : String(error) },
        'could not change launch at login',
      );
    });
  };
  apply(store.state.settings.launchAtLogin);
  return store.subscribe((update) => {
    if (update.kind === 'change' && update.changes.settings) apply(update.changes.settings.launchAtLogin);
  });
}

/** A desktop entry that starts `executable` hidden. Exec quoting per the Desktop Entry specification. */
function autostartEntry(executable: string): string {
  const quoted = `"${executable.replace(/["`$\\]/g, (character) => `\\${character}`)}"`;
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Timebox',
    'Comment=Just-in-time access from the system tray',
    `Exec=${quoted} ${HIDDEN_ARGUMENT}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}
