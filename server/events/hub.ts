import type { Database } from '../db/database.js';
import type { Clock } from '../../api/clock.js';
import type { Metrics } from '../ops/metrics.js';
import type { CommitNotice } from './types.js';

/** Where a stream's bytes go: the HTTP response of one `GET /v1/events`. */
export interface EventSink {
  write(chunk: string): void;
  /** Bytes written but not yet taken by the client. */
  readonly buffered: number;
  end(): void;
}

interface Stream {
  readonly userId: string;
  readonly sink: EventSink;
  lastSeq: number;
}

interface StoredEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
}

const PAGE_SIZE = 500;
// A client this far behind is not reading: drop it, and it resumes with Last-Event-ID when it can.
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Serves each user's event stream from the `events` table. A commit on any instance NOTIFYs the users it
 * wrote events for; this hub then sends every event after each stream's last one, in sequence order. The
 * same path replays a `Last-Event-ID` resume, so live delivery and resume can never disagree.
 */
export class EventHub {
  private readonly streams = new Map<string, Set<Stream>>();
  private readonly pumps = new Map<string, Promise<void>>();
  private readonly pumpAgain = new Set<string>();
  private cancelHeartbeat: (() => void) | null = null;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Opens a stream for `userId` that starts after `lastEventId`, or at the newest event when the client
   * has none. Returns the function that closes it.
   */
  async open(userId: string, lastEventId: number | null, sink: EventSink): Promise<() => void> {
    const [head] = await this.db.query<{ seq: number }>('SELECT seq FROM event_heads WHERE user_id = $1', [
      userId,
    ]);
    const headSeq = head?.seq ?? 0;
    // An id from the future (another database, a reset) would silence the stream: start at the head.
    const stream: Stream = {
      userId,
      sink,
      lastSeq: lastEventId === null ? headSeq : Math.min(lastEventId, headSeq),
    };
    sink.write('retry: 2000\n: connected\n\n');
    const userStreams = this.streams.get(userId) ?? new Set<Stream>();
    userStreams.add(stream);
    this.streams.set(userId, userStreams);
    this.metrics.eventStreams.inc();
    this.armHeartbeat();
    void this.pump(userId);
    return () => {
      this.remove(stream);
    };
  }

  /** Called for every commit notice, from this instance or another. */
  onNotice(notice: CommitNotice): void {
    const users = notice.users.includes('*') ? [...this.streams.keys()] : notice.users;
    for (const userId of users) if (this.streams.has(userId)) void this.pump(userId);
  }

  /** After the listening connection was lost, notices may have been missed: catch every stream up. */
  catchUpAll(): void {
    for (const userId of this.streams.keys()) void this.pump(userId);
  }

  get openStreams(): number {
    let count = 0;
    for (const set of this.streams.values()) count += set.size;
    return count;
  }

  /** Ends every stream (at shutdown); clients reconnect elsewhere with Last-Event-ID. */
  close(): void {
    this.cancelHeartbeat?.();
    this.cancelHeartbeat = null;
    for (const set of this.streams.values()) for (const stream of set) this.remove(stream);
  }

  private remove(stream: Stream): void {
    const set = this.streams.get(stream.userId);
    if (!set?.delete(stream)) return;
    if (set.size === 0) this.streams.delete(stream.userId);
    this.metrics.eventStreams.dec();
    stream.sink.end();
  }

  /** One pump per user at a time; a notice during a pump makes it go round once more. */
  private pump(userId: string): Promise<void> {
    const running = this.pumps.get(userId);
    if (running) {
      this.pumpAgain.add(userId);
      return running;
    }
    const pumping = (async () => {
      do {
        this.pumpAgain.delete(userId);
        await this.deliver(userId);
      } while (this.pumpAgain.has(userId));
    })()
      .catch(() => {
        // The database is away; the next notice or reconnect pumps again, nothing is lost.
      })
      .finally(() => {
        this.pumps.delete(userId);
      });
    this.pumps.set(userId, pumping);
    return pumping;
  }

  private async deliver(userId: string): Promise<void> {
    for (;;) {
      const streams = this.streams.get(userId);
      if (!streams || streams.size === 0) return;
      const from = Math.min(...[...streams].map((stream) => stream.lastSeq));
      const events = await this.db.query<StoredEvent>(
        'SELECT seq, type, data FROM events WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [userId, from, PAGE_SIZE],
      );
      for (const stream of streams) {
        const chunk = events
          .filter((event) => event.seq > stream.lastSeq)
          .map((event) => `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`)
          .join('');
        if (chunk === '') continue;
        stream.sink.write(chunk);
        stream.lastSeq = events.at(-1)?.seq ?? stream.lastSeq;
        if (stream.sink.buffered > MAX_BUFFERED_BYTES) this.remove(stream);
      }
      if (events.length < PAGE_SIZE) return;
    }
  }

  private armHeartbeat(): void {
    if (this.cancelHeartbeat) return;
    this.cancelHeartbeat = this.clock.setTimer(() => {
      this.cancelHeartbeat = null;
      if (this.streams.size === 0) return;
      const beat = `: heartbeat ${new Date(this.clock.now()).toISOString()}\n\n`;
      for (const set of this.streams.values()) for (const stream of set) stream.sink.write(beat);
      this.armHeartbeat();
    }, this.heartbeatMs);
  }
}
