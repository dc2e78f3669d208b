import type { Clipboard } from '../core/ipc-handlers.js';
import type { CoreLogger } from '../core/timebox.js';

/** Electron's clipboard as this Electron declares it: reads and writes answer with promises. */
export interface SystemClipboard {
  readText(): Promise<string> | string;
  writeText(text: string): Promise<void> | void;
}

/**
 * The core's synchronous Clipboard over Electron's asynchronous one. The core copies with
 * `writeText(secret)` and, 30 s later, clears with `if (readText() === secret) writeText('')`. A
 * synchronous read of the system clipboard is not possible here, so `readText` answers what Timebox last
 * wrote, and the clear itself (`writeText('')`) reads the real clipboard first and empties it only if it
 * still holds what Timebox put there: whatever the user copied since stays.
 */
export function clipboardForCore(system: SystemClipboard, log: CoreLogger): Clipboard {
  let written: string | null = null;
  const failed = (what: string) => (error: unknown) => {
    log.warn(
      { error: error instanceof Error ? error.message : String(error) },
      `could not ${what} the clipboard`,
    );
  };
  return {
    readText: () => written ?? '',
    writeText: (text) => {
      if (text !== '') {
        written = text;
        Promise.resolve(system.writeText(text)).catch(failed('write to'));
        return;
      }
      const ours = written;
      written = null;
      if (ours === null) return;
      Promise.resolve(system.readText())
        .then(async (current) => {
          if (current === ours) await system.writeText('');
        })
        .catch(failed('clear'));
    },
  };
}
