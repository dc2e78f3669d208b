import { PUSH_CHANNELS } from '../../preload/channels.js';
import type { NavigationTarget, StateUpdate } from '../../preload/contract.js';

/** The part of a WebContents that receives pushes. */
export interface RendererContents {
  readonly id: number;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', listener: () => void): unknown;
}

/** The part of the core's StateStore the pushes read. */
export interface StateSource {
  snapshot(): StateUpdate;
  subscribe(listener: (update: StateUpdate) => void): () => void;
}

/**
 * Main's side of the state mirror. A window that says it is ready gets the snapshot, then every change;
 * saying it again (after a reload) starts over with a fresh snapshot and one subscription. A navigation
 * for a window that is still loading waits until it is ready. When a window's WebContents goes, so does
 * its subscription.
 */
export class RendererPushes {
  private readonly subscriptions = new Map<number, () => void>();
  private readonly pendingNavigation = new Map<number, NavigationTarget>();
  private readonly watched = new Set<number>();

  constructor(private readonly state: StateSource) {}

  rendererReady(contents: RendererContents): void {
    if (contents.isDestroyed()) return;
    this.watch(contents);
    this.subscriptions.get(contents.id)?.();
    contents.send(PUSH_CHANNELS.state, this.state.snapshot());
    this.subscriptions.set(
      contents.id,
      this.state.subscribe((update) => {
        if (!contents.isDestroyed()) contents.send(PUSH_CHANNELS.state, update);
      }),
    );
    const pending = this.pendingNavigation.get(contents.id);
    if (pending) {
      this.pendingNavigation.delete(contents.id);
      contents.send(PUSH_CHANNELS.navigate, pending);
    }
  }

  navigate(contents: RendererContents, target: NavigationTarget): void {
    if (contents.isDestroyed()) return;
    if (this.subscriptions.has(contents.id)) {
      contents.send(PUSH_CHANNELS.navigate, target);
      return;
    }
    this.watch(contents);
    this.pendingNavigation.set(contents.id, target);
  }

  private watch(contents: RendererContents): void {
    if (this.watched.has(contents.id)) return;
    this.watched.add(contents.id);
    contents.once('destroyed', () => {
      this.subscriptions.get(contents.id)?.();
      this.subscriptions.delete(contents.id);
      this.pendingNavigation.delete(contents.id);
      this.watched.delete(contents.id);
    });
  }
}
