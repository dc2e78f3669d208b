import pg from 'pg';
import type { DatabaseLogger } from './sql.js';
import { endClient } from './pg-client.js';

/**
 * A dedicated connection that LISTENs, and comes back with backoff when the database drops it. Its
 * connect and its LISTEN are bounded like every other wait (`clientConfig` carries the timeouts and TCP
 * keepalive), so a database that black-holes the connection cannot stall it.
 */
export class ChannelListener {
  private client: pg.Client | null = null;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly clientConfig: pg.ClientConfig,
    private readonly channel: string,
    private readonly handlers: {
      readonly onMessage: (payload: string) => void;
      readonly onReconnect: () => void;
      /** From now on messages may be missed, until `onReconnect`. */
      readonly onLost: () => void;
    },
    private readonly logger: DatabaseLogger,
    private readonly endTimeoutMs: number,
  ) {}

  async connect(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    client.on('notification', (message) => {
      if (message.channel === this.channel && message.payload !== undefined)
        this.handlers.onMessage(message.payload);
    });
    client.on('error', (error) => {
      if (this.client !== client) return; // one being replaced, or never in use: nothing to reconnect
      this.logger.warn({ err: error, channel: this.channel }, 'the LISTEN connection failed; reconnecting');
      void endClient(client, this.endTimeoutMs);
      this.handlers.onLost();
      this.scheduleReconnect(1);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    } catch (error) {
      await endClient(client, this.endTimeoutMs);
      throw error;
    }
    if (this.closed) {
      await endClient(client, this.endTimeoutMs);
      return;
    }
    this.client = client;
  }

  /**
   * Replaces the connection with a new one, after the database came back from an outage: a connection
   * that was black-holed may still look open while its notices are lost on the way.
   */
  restart(): void {
    if (this.closed || this.retryTimer) return;
    const previous = this.client;
    this.client = null;
    if (previous) void endClient(previous, this.endTimeoutMs);
    this.handlers.onLost();
    this.scheduleReconnect(0);
  }

  private scheduleReconnect(attempt: number): void {
    if (this.closed || this.retryTimer) return;
    this.client = null;
    const delayMs = attempt === 0 ? 0 : Math.min(30_000, 250 * 2 ** (attempt - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect().then(
        () => {
          if (!this.closed) this.handlers.onReconnect();
        },
        () => {
          this.scheduleReconnect(attempt + 1);
        },
      );
    }, delayMs);
    this.retryTimer.unref();
  }

  /** `goodbyeMs`: how long to wait for the server's goodbye (none when the database is known away). */
  async close(goodbyeMs = this.endTimeoutMs): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const client = this.client;
    this.client = null;
    if (client) await endClient(client, goodbyeMs);
  }
}
