import type { EventEmitter } from 'node:events';

/**
 * What Timebox uses of @homebridge/dbus-native, typed: its own index.d.ts declares neither sessionBus nor
 * the reply's spread body nor the signal emitter.
 */
declare module '@homebridge/dbus-native' {
  export interface DBusMethodCall {
    readonly destination: string;
    readonly path: string;
    readonly interface: string;
    readonly member: string;
    readonly signature?: string;
    readonly body?: readonly unknown[];
  }
  export interface DBusReplyError {
    readonly name: string;
    readonly message: string;
  }
  export interface DBusClient {
    readonly connection: EventEmitter & { end(): void };
    /** Keyed by JSON of {path, interface, member}: see mangle. */
    readonly signals: EventEmitter;
    invoke(
      message: DBusMethodCall,
      callback: (error: DBusReplyError | null | undefined, ...body: unknown[]) => void,
    ): void;
    addMatch(rule: string, callback: (error: DBusReplyError | null | undefined) => void): void;
    mangle(path: string, iface: string, member: string): string;
  }
  export function sessionBus(options: { readonly busAddress: string }): DBusClient;
}
