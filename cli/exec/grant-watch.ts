import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import type { GrantClient } from '../../api/grant-client.js';
import { grantView, type GrantView } from '../../api/schemas.js';

/** After the event stream drops, the next connection. */
const RECONNECT_MS = 5000;
/** The service sends a heartbeat at least every 15 s: a stream silent this long is dead. */
const STALE_MS = 45_000;
/** How long the command's start waits for the stream to open. */
const CONNECT_WAIT_MS = 2000;

const expiring = z.object({ grant: grantView, secondsLeft: z.number() });

export interface GrantWatchHandlers {
  /** A reminder lead time of the policy was reached (`grant.expiring`). */
  expiring(secondsLeft: number): void;
  extended(grant: GrantView): void;
  ended(grant: GrantView): void;
}

/**
 * Follows the caller's event stream (`GET /v1/events`) for one grant while `timebox exec` runs: the
 * service sends `grant.expiring` at the policy's reminder lead times, so the reminders match the app's.
 * A dropped stream is reopened; a reminder missed meanwhile is not repeated (the expiry still is).
 */
export class GrantWatch {
  private abort: AbortController | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly client: GrantClient,
    private readonly grantId: string,
    private readonly handlers: GrantWatchHandlers,
  ) {}

  /**
   * Opens the stream; resolves once it is open (or could not be), so a reminder due right after the
   * command starts is not missed, and never waits longer than CONNECT_WAIT_MS for it.
   */
  start(): Promise<void> {
    this.running = true;
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, CONNECT_WAIT_MS);
      timer.unref();
      void this.connect(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    if (this.timer) clearTimeout(this.timer);
  }

  private async connect(opened: () => void = () => undefined): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    try {
      const { url, headers } = this.client.eventStreamRequest(null);
      const response = await fetch(url, { headers, signal: abort.signal }).finally(opened);
      if (!response.ok || !response.body)
        throw new Error(`the event stream answered HTTP ${response.status}`);
      const parser = createParser({
        onEvent: (event) => {
          this.dispatch(event.event ?? '', event.data);
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const stale = setTimeout(() => {
          abort.abort();
        }, STALE_MS);
        stale.unref();
        const { done, value } = await reader.read().finally(() => {
          clearTimeout(stale);
        });
        if (done) break;
        parser.feed(value);
      }
    } catch {
      opened();
      // A stream that cannot be opened or breaks off is tried again below: reminders are a courtesy.
    }
    if (!this.running) return;
    this.timer = setTimeout(() => void this.connect(), RECONNECT_MS);
    this.timer.unref();
  }

  private dispatch(type: string, data: string): void {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    if (type === 'grant.expiring') {
      const event = expiring.safeParse(json);
      if (event.success && event.data.grant.id === this.grantId)
        this.handlers.expiring(event.data.secondsLeft);
      return;
    }
    if (type !== 'grant.extended' && type !== 'grant.ended') return;
    const grant = grantView.safeParse(json);
    if (!grant.success || grant.data.id !== this.grantId) return;
    if (type === 'grant.extended') this.handlers.extended(grant.data);
    else this.handlers.ended(grant.data);
  }
}
