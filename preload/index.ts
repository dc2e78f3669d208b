import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { invokeChannel, PUSH_CHANNELS, type InvokeMethod } from './channels.js';
import type {
  InvokeArgs,
  InvokeResults,
  IpcResult,
  NavigationTarget,
  StateUpdate,
  TimeboxApi,
} from './contract.js';

/**
 * The renderer's whole view of main: window.timebox, exactly the contract's TimeboxApi. This runs
 * sandboxed (CommonJS, nothing but 'electron' to require), so it imports only types from the contract:
 * the schemas, and zod, stay in main, which validates every call.
 */

const call =
  <Method extends InvokeMethod>(method: Method) =>
  (args: InvokeArgs<Method>): Promise<IpcResult<InvokeResults[Method]>> =>
    ipcRenderer.invoke(invokeChannel(method), args);

interface PushPayloads {
  readonly state: StateUpdate;
  readonly navigate: NavigationTarget;
}

/** A push channel as a subscription; the unsubscribe removes exactly this listener. */
const subscription =
  <Push extends keyof PushPayloads>(push: Push) =>
  (listener: (payload: PushPayloads[Push]) => void): (() => void) => {
    // Only the payload crosses: the event would hand the page `sender`, an ipcRenderer of its own.
    const relay = (_event: IpcRendererEvent, payload: PushPayloads[Push]): void => {
      listener(payload);
    };
    ipcRenderer.on(PUSH_CHANNELS[push], relay);
    return () => {
      ipcRenderer.removeListener(PUSH_CHANNELS[push], relay);
    };
  };

const api: TimeboxApi = {
  rendererReady: call('rendererReady'),
  signIn: call('signIn'),
  authMethods: call('authMethods'),
  signInWithProvider: call('signInWithProvider'),
  signOut: call('signOut'),
  refresh: call('refresh'),
  requestAccess: call('requestAccess'),
  previewRequest: call('previewRequest'),
  approve: call('approve'),
  deny: call('deny'),
  cancelRequest: call('cancelRequest'),
  extendGrant: call('extendGrant'),
  relinquishGrant: call('relinquishGrant'),
  copyCredential: call('copyCredential'),
  copyConnectionUri: call('copyConnectionUri'),
  openPsql: call('openPsql'),
  revealCredential: call('revealCredential'),
  seatPoolUtilization: call('seatPoolUtilization'),
  insights: call('insights'),
  updateSettings: call('updateSettings'),
  unlockKeychain: call('unlockKeychain'),
  openExternal: call('openExternal'),
  onState: subscription('state'),
  onNavigate: subscription('navigate'),
};

contextBridge.exposeInMainWorld('timebox', api);
