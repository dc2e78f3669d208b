import { INVOKE_METHODS, type InvokeMethod } from '../../preload/channels.js';
import type {
  AppState,
  InvokeArgs,
  InvokeResults,
  IpcResult,
  NavigationTarget,
  StateUpdate,
  TimeboxApi,
} from '../../preload/contract.js';

type Answer<Method extends InvokeMethod> = (args: InvokeArgs<Method>) => IpcResult<InvokeResults[Method]>;

/** A stand-in for main behind `window.timebox`: records calls, answers as told, pushes when asked. */
export interface FakeMain {
  readonly api: TimeboxApi;
  /** Every call, in order: the method and its arguments. */
  readonly calls: { method: InvokeMethod; args: unknown }[];
  /** What a method answers (ok with null unless told). */
  answer<Method extends InvokeMethod>(method: Method, answer: Answer<Method>): void;
  push(update: StateUpdate): void;
  navigate(target: NavigationTarget): void;
  readonly listeners: () => { state: number; navigate: number };
  callsOf(method: InvokeMethod): unknown[];
}

/** `state` is the snapshot main sends in answer to rendererReady. */
export function fakeMain(state: AppState): FakeMain {
  const stateListeners = new Set<(update: StateUpdate) => void>();
  const navigateListeners = new Set<(target: NavigationTarget) => void>();
  const calls: { method: InvokeMethod; args: unknown }[] = [];
  const answers = new Map<InvokeMethod, (args: unknown) => IpcResult<unknown>>();
  const push = (update: StateUpdate): void => {
    for (const listener of stateListeners) listener(update);
  };
  const methods: Record<string, unknown> = {
    onState: (listener: (update: StateUpdate) => void) => {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    onNavigate: (listener: (target: NavigationTarget) => void) => {
      navigateListeners.add(listener);
      return () => navigateListeners.delete(listener);
    },
  };
  for (const method of INVOKE_METHODS) {
    methods[method] = (args: unknown) => {
      calls.push({ method, args });
      if (method === 'rendererReady') push({ kind: 'snapshot', state });
      return Promise.resolve(answers.get(method)?.(args) ?? { ok: true, value: null });
    };
  }
  return {
    // The map above holds one function per method of the contract, as TimeboxApi describes them.
    api: methods as unknown as TimeboxApi,
    calls,
    answer(method, answer) {
      answers.set(method, answer as (args: unknown) => IpcResult<unknown>);
    },
    push,
    navigate(target) {
      for (const listener of navigateListeners) listener(target);
    },
    listeners: () => ({ state: stateListeners.size, navigate: navigateListeners.size }),
    callsOf: (method) => calls.filter((call) => call.method === method).map((call) => call.args),
  };
}
