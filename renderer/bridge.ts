import type { TimeboxApi } from '../preload/contract.js';

declare global {
  interface Window {
    /** Set by the preload (contextBridge); the renderer's only way out. */
    readonly timebox?: TimeboxApi;
  }
}

/** The typed bridge to main, or null when the page runs outside Timebox (opened in a plain browser). */
export function bridge(): TimeboxApi | null {
  return window.timebox ?? null;
}
