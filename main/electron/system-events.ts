/** The part of Electron's powerMonitor Timebox listens to. */
export interface PowerEvents {
  on(event: 'resume' | 'unlock-screen', listener: () => void): unknown;
}

/**
 * Tells the core what the machine did: after sleep the connection is likely dead and timers late; after
 * an unlock, deadlines are re-armed (some platforms hold timers while the screen is locked).
 */
export function followSystemEvents(
  power: PowerEvents,
  core: { systemResumed(): void; screenUnlocked(): void },
): void {
  power.on('resume', () => {
    core.systemResumed();
  });
  power.on('unlock-screen', () => {
    core.screenUnlocked();
  });
}
