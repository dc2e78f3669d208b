import { EmptyState } from '../components/EmptyState.js';
import { useTimebox } from '../state/hooks.js';
import { MainWindow } from './MainWindow.js';
import { PopoverWindow } from './PopoverWindow.js';

/** Both windows: the loading state until main's snapshot is in, then the window this page is. */
export function App() {
  const ready = useTimebox((state) => state.app !== null);
  const windowKind = useTimebox((state) => state.windowKind);
  if (!ready) {
    return (
      <main className={`window window-${windowKind} window-loading`}>
        <EmptyState
          tone="loading"
          title="Starting Timebox…"
          action={
            <button
              type="button"
              className="button"
              onClick={() => {
                window.location.reload();
              }}
            >
              Reload window
            </button>
          }
        >
          Waiting for the app to send its state.
        </EmptyState>
      </main>
    );
  }
  return windowKind === 'popover' ? <PopoverWindow /> : <MainWindow />;
}
