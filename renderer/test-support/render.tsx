import { render, type RenderResult } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import type { AppState } from '../../preload/contract.js';
import { RuntimeContext } from '../state/hooks.js';
import { createRuntime, type Runtime } from '../state/runtime.js';
import type { WindowKind } from '../state/store.js';
import { fakeMain, type FakeMain } from './fake-api.js';

export interface Rendered extends RenderResult {
  readonly main: FakeMain;
  readonly runtime: Runtime;
  readonly user: ReturnType<typeof userEvent.setup>;
}

/**
 * Renders a view connected to a fake main that sends `state` as its snapshot. With fake timers, pass
 * `advanceTimers` so user-event's own waits move with them.
 */
export function renderConnected(
  ui: ReactNode,
  state: AppState,
  options: {
    windowKind?: WindowKind;
    advanceTimers?: (ms: number) => void;
    /** Tells the fake main its answers before the view renders (and calls it at once). */
    answers?: (main: FakeMain) => void;
  } = {},
): Rendered {
  const main = fakeMain(state);
  options.answers?.(main);
  const runtime = createRuntime(main.api, options.windowKind ?? 'main');
  const disconnect = runtime.connect();
  const result = render(<RuntimeContext value={runtime}>{ui}</RuntimeContext>);
  const unmount = result.unmount;
  return {
    ...result,
    unmount: () => {
      unmount();
      disconnect();
    },
    main,
    runtime,
    user: userEvent.setup(options.advanceTimers ? { advanceTimers: options.advanceTimers } : {}),
  };
}
