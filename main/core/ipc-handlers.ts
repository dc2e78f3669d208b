import type { z } from 'zod';
import { INVOKE_METHODS, type InvokeMethod } from '../../preload/channels.js';
import { invokeArgs, type InvokeResults, type IpcResult } from '../../preload/contract.js';
import type { DesktopClock } from './clock.js';
import { toIpcError } from './errors.js';
import { UserError } from '../../api/errors.js';
import type { CoreLogger, TimeboxCore } from './timebox.js';

/** The system clipboard, narrowed (asynchronous, as Electron's is). */
export interface Clipboard {
  readText(): Promise<string>;
  writeText(text: string): Promise<void>;
}

/** `Caller` is whoever sent a call (a window's WebContents in Electron, a page in tests). */
export interface HandlerDeps<Caller> {
  readonly core: TimeboxCore;
  readonly clipboard: Clipboard;
  readonly clock: DesktopClock;
  readonly log: CoreLogger;
  /** Opens a URL in the system browser (shell.openExternal). */
  readonly openExternal: (url: string) => Promise<void>;
  /** Hosts `openExternal` may open, besides the service's own (when it is https). */
  readonly externalHosts: readonly string[];
  /** The renderer that sent `rendererReady` wants the snapshot now. */
  readonly rendererReady: (caller: Caller) => void;
}

type Handler<Method extends InvokeMethod, Caller> = (
  args: z.output<(typeof invokeArgs)[Method]>,
  caller: Caller,
) => Promise<InvokeResults[Method]>;
export type Handlers<Caller> = { readonly [Method in InvokeMethod]: Handler<Method, Caller> };

/** A copied secret leaves the clipboard after this long, unless the user copied something else since. */
export const CLIPBOARD_CLEAR_MS = 30_000;

/** What each call does: the contract's methods over the core. */
export function createHandlers<Caller>(deps: HandlerDeps<Caller>): Handlers<Caller> {
  const { core } = deps;
  let clearClipboard: (() => void) | null = null;
  /** Puts a secret on the clipboard, and takes it off again after CLIPBOARD_CLEAR_MS if it is still there. */
  const copyForAWhile = async (value: string): Promise<{ clearsAt: number }> => {
    await deps.clipboard.writeText(value);
    clearClipboard?.();
    clearClipboard = deps.clock.setTimer(() => {
      clearClipboard = null;
      // Only our secret is cleared: if the user copied something else since, it stays.
      void (async () => {
        if ((await deps.clipboard.readText()) === value) await deps.clipboard.writeText('');
      })().catch((error: unknown) => {
        deps.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'could not clear the clipboard',
        );
      });
    }, CLIPBOARD_CLEAR_MS);
    return { clearsAt: deps.clock.now() + CLIPBOARD_CLEAR_MS };
  };
  return {
    rendererReady: async (_args, caller) => {
      deps.rendererReady(caller);
      return null;
    },
    signIn: (args) => core.signIn(args),
    authMethods: () => core.authMethods(),
    signInWithProvider: (args) => core.signInWithProvider(args),
    signOut: async () => {
      await core.signOut();
      return null;
    },
    refresh: async () => {
      await core.refresh();
      return null;
    },
    requestAccess: (args) => core.requestAccess(args),
    previewRequest: (args) => core.previewRequest(args),
    approve: (args) => core.approve(args),
    deny: (args) => core.deny(args),
    cancelRequest: (args) => core.cancelRequest(args),
    extendGrant: (args) => core.extendGrant(args),
    relinquishGrant: (args) => core.relinquishGrant(args),
    copyCredential: async ({ grantId }) => {
      const { secret } = await core.credential(grantId);
      const value = secret.token ?? secret.password;
      if (typeof value !== 'string')
        throw new UserError('nothing_to_copy', 'This credential has nothing to copy.');
      return copyForAWhile(value);
    },
    copyConnectionUri: async ({ grantId }) => copyForAWhile(await core.connectionUri(grantId)),
    openPsql: async ({ grantId }) => {
      await core.openPsql(grantId);
      return null;
    },
    revealCredential: async ({ grantId }) => {
      const credential = await core.credential(grantId);
      deps.log.info({ grantId }, 'credential revealed to the window at the user’s request');
      return { kind: credential.kind, secret: credential.secret, expiresAt: credential.expiresAt };
    },
    seatPoolUtilization: ({ period }) => core.seatPoolUtilization(period),
    insights: ({ period }) => core.insights(period),
    updateSettings: (args) => core.updateSettings(args),
    unlockKeychain: () => core.unlockKeychain(),
    openExternal: async ({ url }) => {
      const host = new URL(url).host;
      const serviceUrl = core.store.state.service.url;
      const serviceHost = serviceUrl?.startsWith('https://') ? new URL(serviceUrl).host : null;
      if (!deps.externalHosts.includes(host) && host !== serviceHost) {
        throw new UserError('link_not_allowed', `Timebox opens links only to known sites, not ${host}.`);
      }
      await deps.openExternal(url);
      return null;
    },
  };
}

function isInvokeMethod(method: string): method is InvokeMethod {
  return (INVOKE_METHODS as readonly string[]).includes(method);
}

/**
 * Runs one call from a window: an unknown method or arguments of the wrong shape are refused and logged
 * before any handler runs; every failure comes back as an error value, never a thrown exception.
 */
export async function dispatch<Caller>(
  handlers: Handlers<Caller>,
  method: string,
  rawArgs: unknown,
  log: CoreLogger,
  caller: Caller,
): Promise<IpcResult<unknown>> {
  if (!isInvokeMethod(method)) {
    log.warn({ method }, 'refused a call to an unknown IPC method');
    return { ok: false, error: { code: 'unknown_method', message: `Timebox has no method "${method}".` } };
  }
  const parsed = invokeArgs[method].safeParse(rawArgs ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    log.warn(
      {
        method,
        issues: parsed.error.issues.map((problem) => `${problem.path.join('.')}: ${problem.message}`),
      },
      'refused an IPC call with invalid arguments',
    );
    return {
      ok: false,
      error: {
        code: 'invalid_arguments',
        message: `Invalid ${method} call${issue ? `: ${[...issue.path].join('.') || 'arguments'} ${issue.message}` : ''}.`,
      },
    };
  }
  try {
    // The parsed arguments match the method's schema: the pairing of method and handler is what the map says.
    const handler = handlers[method] as (args: unknown, caller: Caller) => Promise<unknown>;
    return { ok: true, value: await handler(parsed.data, caller) };
  } catch (error) {
    return { ok: false, error: toIpcError(error) };
  }
}
