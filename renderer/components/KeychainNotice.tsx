import { useState } from 'react';
import type { KeychainUnlockResult } from '../../preload/contract.js';
import { useApp, useRuntime } from '../state/hooks.js';
import { runCommand } from '../state/runtime.js';

/**
 * No keychain means no credentials at all (never a plaintext fallback): say so, and how to fix it. A locked
 * one (only Linux reports it: macOS and Windows ask for the password themselves) offers to ask the OS to
 * unlock it, and says what that came to.
 */
export function KeychainNotice() {
  const runtime = useRuntime();
  const keychain = useApp((app) => app.keychain);
  const [asking, setAsking] = useState(false);
  const [answer, setAnswer] = useState<KeychainUnlockResult | null>(null);
  if (keychain.available) return null;

  const unlock = async () => {
    setAsking(true);
    setAnswer(null);
    try {
      const result = await runCommand(runtime, () => runtime.api.unlockKeychain({}), {
        success: (value) => (value.outcome === 'unlocked' ? value.message : null),
        // The prompt is a person's decision: asking again is theirs too, with the button.
        retry: false,
      });
      if (result && result.outcome !== 'unlocked') setAnswer(result);
    } finally {
      setAsking(false);
    }
  };

  return (
    <div className="notice notice-warning" role="status">
      <p>
        <strong>{keychain.locked ? 'Keychain locked.' : 'Keychain unavailable.'}</strong>{' '}
        {keychain.message ?? 'Timebox cannot keep credentials until a system keychain is available.'}
      </p>
      {answer && <p>{answer.message}</p>}
      {keychain.locked && (
        <button type="button" className="button button-small" disabled={asking} onClick={() => void unlock()}>
          {asking ? 'Waiting for the unlock prompt…' : 'Unlock keychain'}
        </button>
      )}
      <button
        type="button"
        className="button button-small"
        onClick={() => void runCommand(runtime, () => runtime.api.refresh({}))}
      >
        Try again
      </button>
    </div>
  );
}
