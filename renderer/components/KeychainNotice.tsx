import { useApp, useRuntime } from '../state/hooks.js';
import { runCommand } from '../state/runtime.js';

/** No keychain means no credentials at all (never a plaintext fallback): say so, and how to fix it. */
export function KeychainNotice() {
  const runtime = useRuntime();
  const keychain = useApp((app) => app.keychain);
  if (keychain.available) return null;
  return (
    <div className="notice notice-warning" role="status">
      <p>
        <strong>{keychain.locked ? 'Keychain locked.' : 'Keychain unavailable.'}</strong>{' '}
        {keychain.message ?? 'Timebox cannot keep credentials until a system keychain is available.'}
      </p>
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
