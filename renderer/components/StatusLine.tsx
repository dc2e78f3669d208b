import { useState } from 'react';
import type { AppState } from '../../preload/contract.js';
import { useApp, useFromServiceNow, useRuntime } from '../state/hooks.js';
import { runCommand } from '../state/runtime.js';

/**
 * The connection in one quiet line, only while it is not live; "Retry now" asks main to reload at once
 * and says "Checking…" until main answers (it retries a failed read a few times before it gives up).
 */
export function StatusLine() {
  const runtime = useRuntime();
  const connection = useApp((app) => app.connection);
  const offset = useApp((app) => app.clockOffsetMs);
  // Re-renders when the words change (a retry countdown), not at every tick.
  const text = useFromServiceNow((serviceNow) => connectionText(connection, serviceNow - offset) ?? '');
  const [checking, setChecking] = useState(false);
  if (text === '') return null;
  return (
    <div className={`status-line status-${connection.status}`} role="status">
      <span className="status-dot" aria-hidden="true" />
      <span className="status-text" title={connection.message ?? undefined}>
        {text}
      </span>
      <button
        type="button"
        className="link-button"
        disabled={checking}
        onClick={() => {
          setChecking(true);
          void runCommand(runtime, () => runtime.api.refresh({}), { retry: false }).finally(() => {
            setChecking(false);
          });
        }}
      >
        {checking ? 'Checking…' : 'Retry now'}
      </button>
    </div>
  );
}

/** What to say about the connection, or null when there is nothing to say. */
export function connectionText(connection: AppState['connection'], localNow: number): string | null {
  switch (connection.status) {
    case 'live':
    case 'idle':
      return null;
    case 'connecting':
      if (connection.retryAt === null) return 'Connecting…';
      return `Reconnecting${retryIn(connection.retryAt, localNow)}…`;
    case 'polling':
      return 'Live updates paused; checking every 15 s.';
    case 'offline':
      return 'Offline. Timebox keeps trying; your credentials stay until they expire.';
  }
}

function retryIn(retryAt: number, localNow: number): string {
  const seconds = Math.ceil((retryAt - localNow) / 1000);
  return seconds > 1 ? ` in ${seconds} s` : '';
}
