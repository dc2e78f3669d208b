import type { AppState, StateUpdate } from '../../preload/contract.js';

/**
 * The app's state, owned by main. Subscribers get each change as the top-level keys that changed; a new
 * subscriber asks for `snapshot()` first. Renderers mirror it; nothing here is secret.
 */
export class StateStore {
  private current: AppState;
  private readonly listeners = new Set<(update: StateUpdate) => void>();

  constructor(initial: AppState) {
    this.current = initial;
  }

  get state(): AppState {
    return this.current;
  }

  snapshot(): StateUpdate {
    return { kind: 'snapshot', state: this.current };
  }

  update(changes: Partial<AppState>): void {
    this.current = { ...this.current, ...changes };
    for (const listener of this.listeners) listener({ kind: 'change', changes });
  }

  subscribe(listener: (update: StateUpdate) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
