import { createParser } from 'eventsource-parser';
import type { ConnectionStatus } from '../../preload/contract.js';
import { errorBody } from '../../api/schemas.js';
import type { ClockOffsetEstimator } from '../../api/clock-offset.js';
import type { DesktopClock } from './clock.js';
import { parseJson } from './core-context.js';
import { isSessionEnded, ServiceError } from '../../api/errors.js';
import type { GrantClient } from '../../api/grant-client.js';

export interface LiveEventsOptions {
  readonly client: GrantClient;
  readonly fetch: typeof fetch;
  readonly clock: DesktopClock;
  readonly offset: ClockOffsetEstimator;
  readonly random: () => number;
  /** One event from the stream, in order: its type and its data as sent (the receiver checks it). */
  readonly onEvent: (type: string, data: string) => void;
  readonly onStatus: (status: ConnectionStatus, retryAt: number | null, message: string | null) => void;
  /** Load everything afresh: on every (re)connect, and on every poll while the stream is away. */
  readonly resync: () => Promise<void>;
  /** The service no longer takes the token; `code` is its reason (token_expired, token_revoked…) when it gave one. */
  readonly onSessionEnded: (code: string | null) => void;
  /** Any sign of life from the stream (an event or a heartbeat). */
  readonly onAlive?: () => void;
  readonly backoff?: { readonly minMs: number; readonly maxMs: number };
  /** While the stream is away, poll this often (15 s). */
  readonly pollEveryMs?: number;
  /** Failed connections in a row before polling starts. */
  readonly failuresBeforePolling?: number;
  /** A stream silent this long (no heartbeat) is dead. */
  readonly staleAfterMs?: number;
}

/**
 * Follows `GET /v1/events`. Resumes with Last-Event-ID; reconnects with exponential backoff and full
 * jitter; resyncs fully after every connect, so nothing missed while away stays missed; polls while the
 * stream cannot be reached; treats a stream that stops heart-beating as dead.
 */
export class LiveEvents {
  private lastEventId: string | null = null;
  private failures = 0;
  private running = false;
  private abort: AbortController | null = null;
  private cancelReconnect: (() => void) | null = null;
  private cancelPoll: (() => void) | null = null;
  private cancelStale: (() => void) | null = null;
  /** When the next reconnect and the next poll are due (local time), while the stream is away. */
  private reconnectAt: number | null = null;
  private pollAt: number | null = null;
  private readonly backoff: { minMs: number; maxMs: number };

  constructor(private readonly options: LiveEventsOptions) {
    this.backoff = options.backoff ?? { minMs: 1000, maxMs: 30_000 };
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    this.abort = null;
    for (const cancel of [this.cancelReconnect, this.cancelPoll, this.cancelStale]) cancel?.();
    this.cancelReconnect = this.cancelPoll = this.cancelStale = null;
    this.reconnectAt = this.pollAt = null;
    this.options.onStatus('idle', null, null);
  }

  /** Drops the current connection and connects now (after resume from sleep, or a network change). */
  reconnectNow(): void {
    if (!this.running) return;
    this.failures = 0;
    this.abort?.abort();
  }

  private async connect(): Promise<void> {
    this.cancelReconnect = null;
    this.reconnectAt = null;
    if (!this.running) return;
    this.options.onStatus(this.cancelPoll ? 'polling' : 'connecting', null, null);
    const abort = new AbortController();
    this.abort = abort;
    try {
      const { url, headers } = this.options.client.eventStreamRequest(this.lastEventId);
      const sentAt = this.options.clock.now();
      const response = await this.options.fetch(url, { headers, signal: abort.signal });
      this.options.offset.observe(sentAt, this.options.clock.now(), response.headers);
      if (response.status === 401) {
        this.running = false;
        this.options.onSessionEnded(await errorCodeOf(response));
        return;
      }
      if (!response.ok || !response.body)
        throw new Error(`the event stream answered HTTP ${response.status}`);
      this.failures = 0;
      this.stopPolling();
      this.options.onStatus('live', null, null);
      this.keepAlive(abort);
      const reading = this.read(response.body, abort);
      try {
        await this.options.resync();
      } catch (error) {
        abort.abort();
        await reading.catch(() => undefined);
        throw error;
      }
      await reading;
      throw new Error('the event stream ended');
    } catch (error) {
      if (!this.running) return;
      if (isSessionEnded(error)) {
        this.running = false;
        this.options.onSessionEnded(error.code);
        return;
      }
      this.scheduleReconnect(error);
    } finally {
      this.cancelStale?.();
      this.cancelStale = null;
      if (this.abort === abort) this.abort = null;
    }
  }

  private async read(body: ReadableStream<Uint8Array>, abort: AbortController): Promise<void> {
    const parser = createParser({
      onEvent: (event) => {
        if (event.id !== undefined) this.lastEventId = event.id;
        if (event.event) this.options.onEvent(event.event, event.data);
      },
    });
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.keepAlive(abort);
        this.options.onAlive?.();
        parser.feed(value);
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  }

  /** Re-arms the watchdog: a stream that says nothing for staleAfterMs is dropped and reconnected. */
  private keepAlive(abort: AbortController): void {
    this.cancelStale?.();
    this.cancelStale = this.options.clock.setTimer(() => {
      abort.abort();
    }, this.options.staleAfterMs ?? 45_000);
  }

  private scheduleReconnect(error: unknown): void {
    this.failures += 1;
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.minMs * 2 ** (this.failures - 1));
    // Full jitter: many clients that lost the service together do not come back together.
    const delay = Math.max(this.backoff.minMs / 2, Math.round(ceiling * this.options.random()));
    const retryAt = this.options.clock.now() + delay;
    const message =
      error instanceof ServiceError
        ? error.message
        : `Lost the live connection to the service (${error instanceof Error ? error.message : 'unknown error'}); reconnecting.`;
    if (this.failures >= (this.options.failuresBeforePolling ?? 2)) this.startPolling();
    this.reconnectAt = retryAt;
    this.options.onStatus(this.cancelPoll ? 'polling' : 'connecting', this.nextAttemptAt(), message);
    this.cancelReconnect = this.options.clock.setTimer(() => {
      void this.connect();
    }, delay);
  }

  private startPolling(): void {
    if (this.cancelPoll) return;
    const poll = (): void => {
      const every = this.options.pollEveryMs ?? 15_000;
      this.pollAt = this.options.clock.now() + every;
      this.cancelPoll = this.options.clock.setTimer(() => {
        void this.options.resync().then(
          () => {
            if (this.cancelPoll)
              this.options.onStatus(
                'polling',
                this.nextAttemptAt(),
                'The live connection is down; checking every 15 seconds.',
              );
          },
          (error: unknown) => {
            if (isSessionEnded(error)) {
              this.stop();
              this.options.onSessionEnded(error.code);
              return;
            }
            if (this.cancelPoll)
              this.options.onStatus(
                'offline',
                this.nextAttemptAt(),
                error instanceof Error ? error.message : 'The service cannot be reached.',
              );
          },
        );
        if (this.cancelPoll) poll();
      }, every);
    };
    poll();
  }

  private stopPolling(): void {
    this.cancelPoll?.();
    this.cancelPoll = null;
    this.pollAt = null;
  }

  /** The next attempt to reach the service, a reconnect or a poll, whichever comes first. */
  private nextAttemptAt(): number | null {
    const due = [this.reconnectAt, this.pollAt].filter((at): at is number => at !== null);
    return due.length === 0 ? null : Math.min(...due);
  }
}

/** The error code in a refusal's body ({"error": {"code": …}}), or null when it carries none. */
async function errorCodeOf(response: Response): Promise<string | null> {
  const body = errorBody.safeParse(parseJson(await response.text().catch(() => '')));
  return body.success ? body.data.error.code : null;
}
