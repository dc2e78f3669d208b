/**
 * A pause in typing this long asks the service for a preview again: one question per pause, not one per
 * key. Kept apart from the hook so the end-to-end tests, which move the page's clock, can read it.
 */
export const PREVIEW_PAUSE_MS = 300;
