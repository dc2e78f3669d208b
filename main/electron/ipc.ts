import { INVOKE_METHODS, invokeChannel } from '../../preload/channels.js';
import type { IpcResult } from '../../preload/contract.js';
import { dispatch, type Handlers } from '../core/ipc-handlers.js';
import type { CoreLogger } from '../core/timebox.js';
import { isAppPage } from './app-protocol.js';
import type { RendererContents } from './renderer-pushes.js';
import { originOf } from './security.js';

/** What main knows of a call's origin: the WebContents and the frame that sent it. */
export interface InvokeEvent {
  readonly sender: RendererContents;
  /** null once the frame has navigated away or gone. */
  readonly senderFrame: { readonly url: string; readonly parent: unknown } | null;
}

/** The part of ipcMain the wrapper uses. */
export interface InvokeRegistry {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

const refused = (code: string, message: string): IpcResult<never> => ({
  ok: false,
  error: { code, message },
});

/**
 * Registers one handler per contract method, and nothing else: a channel outside the contract has no
 * handler, so Electron refuses it (and `refuseStrayMessages` logs messages sent outside any call). Every call is checked before the core sees it: the sender must be one
 * of our windows, from its top frame, showing our own page; exactly one argument, validated by the
 * method's zod schema (in `dispatch`). A refusal is logged (what and why, never the arguments) and comes
 * back as an error value. Returns the unregister.
 */
export function registerIpc(deps: {
  readonly ipcMain: InvokeRegistry;
  readonly handlers: Handlers<RendererContents>;
  /** Whether `contents` belongs to one of our windows. */
  readonly isOurContents: (contents: RendererContents) => boolean;
  readonly log: CoreLogger;
}): () => void {
  const { ipcMain, handlers, log } = deps;
  for (const method of INVOKE_METHODS) {
    ipcMain.handle(invokeChannel(method), async (event, ...args) => {
      const frame = event.senderFrame;
      if (!deps.isOurContents(event.sender) || !frame || frame.parent !== null || !isAppPage(frame.url)) {
        log.warn(
          { method, senderId: event.sender.id, frame: frame ? originOf(frame.url) : 'gone' },
          'refused an IPC call from outside a Timebox window',
        );
        return refused('forbidden_sender', 'Timebox answers its own windows only.');
      }
      if (args.length > 1) {
        log.warn({ method, arguments: args.length }, 'refused an IPC call with extra arguments');
        return refused('invalid_arguments', `Invalid ${method} call: it takes one argument.`);
      }
      return dispatch(handlers, method, args[0], log, event.sender);
    });
  }
  return () => {
    for (const method of INVOKE_METHODS) ipcMain.removeHandler(invokeChannel(method));
  };
}

/** The part of a WebContents that messages sent with `ipcRenderer.send` and `sendSync` arrive on. */
export interface MessageSource {
  readonly id: number;
  on(
    event: 'ipc-message' | 'ipc-message-sync',
    listener: (event: { returnValue: unknown }, channel: string) => void,
  ): unknown;
}

/** Long enough for any real channel name; a longer one is cut, so the log never carries a payload. */
const CHANNEL_LOGGED = 100;

/**
 * Our contract is calls (`invoke`) only: nothing is ever sent to main with `ipcRenderer.send` or
 * `sendSync`. Electron refuses an invoke on a channel without a handler by itself, and prints "No handler
 * registered" on stderr (https://github.com/electron/electron/blob/main/lib/browser/ipc-dispatch.ts);
 * a send or sendSync, on any channel, finds no listener and is dropped without a word, and a sendSync
 * leaves the page waiting for an answer. Here every such message is logged as a refusal (its channel,
 * never its arguments), and a sendSync is answered with the refusal, so the page does not hang.
 */
export function refuseStrayMessages(contents: MessageSource, log: CoreLogger): void {
  const refuse = (kind: 'send' | 'sendSync', channel: string): IpcResult<never> => {
    log.warn(
      { kind, channel: channel.slice(0, CHANNEL_LOGGED), senderId: contents.id },
      'refused an IPC message on a channel outside the contract',
    );
    return refused('unknown_channel', 'Timebox answers its own calls only.');
  };
  contents.on('ipc-message', (_event, channel) => {
    refuse('send', channel);
  });
  contents.on('ipc-message-sync', (event, channel) => {
    event.returnValue = refuse('sendSync', channel);
  });
}
