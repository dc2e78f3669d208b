import type { CoreLogger } from '../core/timebox.js';

export interface AppLogger extends CoreLogger {
  error(details: object, message: string): void;
}

/**
 * The main process's log: one JSON line per entry, on stdout (info) and stderr (warnings, errors), where
 * the OS's own log collection and the end-to-end tests can read it. Callers never pass secrets: refusals
 * log what was refused (a method, a reason), not the arguments.
 */
export function consoleLogger(): AppLogger {
  const line = (level: string, details: object, message: string): string =>
    JSON.stringify({ time: new Date().toISOString(), level, message, ...details });
  return {
    info: (details, message) => {
      console.log(line('info', details, message));
    },
    warn: (details, message) => {
      console.warn(line('warn', details, message));
    },
    error: (details, message) => {
      console.error(line('error', details, message));
    },
  };
}
