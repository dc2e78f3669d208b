/**
 * The names on the wire between renderer and main. Kept apart from the schemas so the sandboxed preload
 * bundles nothing but these strings.
 */
export const INVOKE_METHODS = [
  'rendererReady',
  'signIn',
  'authMethods',
  'signInWithProvider',
  'signOut',
  'refresh',
  'requestAccess',
  'previewRequest',
  'approve',
  'deny',
  'cancelRequest',
  'extendGrant',
  'relinquishGrant',
  'copyCredential',
  'copyConnectionUri',
  'openPsql',
  'revealCredential',
  'seatPoolUtilization',
  'insights',
  'updateSettings',
  'unlockKeychain',
  'openExternal',
] as const;

export type InvokeMethod = (typeof INVOKE_METHODS)[number];

/** Calls from the renderer, answered by main: `ipcRenderer.invoke`. */
export const invokeChannel = (method: InvokeMethod): string => `timebox:invoke:${method}`;

/** Pushes from main to the renderer. */
export const PUSH_CHANNELS = {
  /** A state snapshot, then changes. */
  state: 'timebox:push:state',
  /** Show a view: a tray item, a notification or a deep link was clicked. */
  navigate: 'timebox:push:navigate',
} as const;
