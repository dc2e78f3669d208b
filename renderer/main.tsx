import { StrictMode, useEffect } from 'react';
import { createRoot } from 'react-dom/client';
import { bridge } from './bridge.js';
import { EmptyState } from './components/EmptyState.js';
import { RuntimeContext } from './state/hooks.js';
import { createRuntime, type Runtime } from './state/runtime.js';
import type { WindowKind } from './state/store.js';
import { App } from './shell/App.js';

function windowKindOf(search: string): WindowKind {
  return new URLSearchParams(search).get('window') === 'popover' ? 'popover' : 'main';
}

/** Connects the runtime for as long as the page lives (and cleanly again under StrictMode's double mount). */
function Root({ runtime }: { readonly runtime: Runtime }) {
  useEffect(() => runtime.connect(), [runtime]);
  return (
    <RuntimeContext value={runtime}>
      <App />
    </RuntimeContext>
  );
}

const windowKind = windowKindOf(window.location.search);
document.documentElement.dataset.window = windowKind;
const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root');
const api = bridge();
createRoot(container).render(
  <StrictMode>
    {api ? (
      <Root runtime={createRuntime(api, windowKind)} />
    ) : (
      <main className="window window-loading">
        <EmptyState
          tone="warning"
          title="Open Timebox from its tray icon"
          action={
            <button
              type="button"
              className="button"
              onClick={() => {
                window.location.reload();
              }}
            >
              Reload
            </button>
          }
        >
          This page is Timebox’s window and works only inside the app.
        </EmptyState>
      </main>
    )}
  </StrictMode>,
);
