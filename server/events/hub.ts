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

/** Whose stream it is: a user's, through one of their sessions, which the stream does not outlive. */
export interface StreamOwner {
  readonly userId: string;
  readonly sessionId: string;
  /** When the session ends by itself (its tokenTtl), ms. */
  readonly sessionExpiresAt: number;
}

/** What the hub needs to know of sessions. */
export interface LiveSessions {
  /**
   * Records that these sessions are in use now (their streams are open, which counts as use against the
   * idle timeout) and answers the ones still live: the streams of the others end.
   */
  keepAlive(sessionIds: readonly string[]): Promise<ReadonlySet<string>>;
}

interface Stream extends StreamOwner {
  readonly sink: EventSink;
  lastSeq: number;
}

interface StoredEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: unknown;
}

const PAGE_SIZE = 500;
// How often open streams count as use of their sessions, and are checked against the database: the
// backstop behind the NOTIFY that ends a stream at once when its session ends.
const SESSION_KEEPALIVE_MS = 60_000;
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
  private cancelKeepAlive: (() => void) | null = null;
  /** The one timer at the earliest session expiry among the open streams, and when it fires. */
  private cancelExpiry: (() => void) | null = null;
  private expiryArmedAt: number | null = null;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly heartbeatMs: number,
    private readonly metrics: Metrics,
    private readonly sessions: LiveSessions,
  ) {}

  /**
   * Opens a stream for its owner that starts after `lastEventId`, or at the newest event when the client
   * has none. It ends when its session ends (signed out, ended, expired). Returns the function that
   * closes it.
   */
  async open(owner: StreamOwner, lastEventId: number | null, sink: EventSink): Promise<() => void> {
    const { userId } = owner;
    const [head] = await this.db.query<{ seq: number }>('SELECT seq FROM event_heads WHERE user_id = $1', [
      userId,
    ]);
    const headSeq = head?.seq ?? 0;
    // An id from the future (another database, a reset) would silence the stream: start at the head.
    const stream: Stream = {
      ...owner,
      sink,
      lastSeq: lastEventId === null ? headSeq : Math.min(lastEventId, headSeq),
    };
    sink.write('retry: 2000\n: connected\n\n');
    const userStreams = this.streams.get(userId) ?? new Set<Stream>();
    userStreams.add(stream);
    this.streams.set(userId, userStreams);
    this.metrics.eventStreams.inc();
    this.armHeartbeat();
    this.armKeepAlive();
    this.armExpiry();
    void this.pump(userId);
    return () => {
      this.remove(stream);
    };
  }

  /** Called for every commit notice, from this instance or another. */
  onNotice(notice: CommitNotice): void {
    if (notice.endedSessions.includes('*')) void this.checkSessions();
    else if (notice.endedSessions.length > 0) this.endSessions(new Set(notice.endedSessions));
    const users = notice.users.includes('*') ? [...this.streams.keys()] : notice.users;
    for (const userId of users) if (this.streams.has(userId)) void this.pump(userId);
  }

  /** After the listening connection was lost, notices may have been missed: catch every stream up. */
  catchUpAll(): void {
    void this.checkSessions();
    for (const userId of this.streams.keys()) void this.pump(userId);
  }

  get openStreams(): number {
    let count = 0;
    for (const set of this.streams.values()) count += set.size;
    return count;
  }

  /** Ends every stream (at shutdown); clients reconnect elsewhere with Last-Event-ID. */
  close(): void {
    for (const cancel of [this.cancelHeartbeat, this.cancelKeepAlive, this.cancelExpiry]) cancel?.();
    this.cancelHeartbeat = this.cancelKeepAlive = this.cancelExpiry = null;
    this.expiryArmedAt = null;
    for (const stream of this.allStreams()) this.remove(stream);
  }

  private allStreams(): Stream[] {
    return [...this.streams.values()].flatMap((set) => [...set]);
  }

  private endSessions(sessionIds: ReadonlySet<string>): void {
    for (const stream of this.allStreams()) if (sessionIds.has(stream.sessionId)) this.remove(stream);
  }

  /** Counts the open streams as use of their sessions, and ends those whose session is no longer live. */
  private async checkSessions(): Promise<void> {
    const open = [...new Set(this.allStreams().map((stream) => stream.sessionId))];
    if (open.length === 0) return;
    try {
      const live = await this.sessions.keepAlive(open);
      this.endSessions(new Set(open.filter((sessionId) => !live.has(sessionId))));
    } catch {
      // The database is away: the next check (or the notice of the session's end) ends what must end.
    }
  }

  private armKeepAlive(): void {
    if (this.cancelKeepAlive) return;
    this.cancelKeepAlive = this.clock.setTimer(() => {
      this.cancelKeepAlive = null;
      if (this.streams.size === 0) return;
      void this.checkSessions();
      this.armKeepAlive();
    }, SESSION_KEEPALIVE_MS);
  }

  /** One timer, at the earliest expiry of a session with an open stream: the stream ends with it. */
  private armExpiry(): void {
    const now = this.clock.now();
    for (const stream of this.allStreams()) if (stream.sessionExpiresAt <= now) this.remove(stream);
    const earliest = Math.min(...this.allStreams().map((stream) => stream.sessionExpiresAt));
    if (!Number.isFinite(earliest) || earliest === this.expiryArmedAt) return;
    this.cancelExpiry?.();
    this.expiryArmedAt = earliest;
    this.cancelExpiry = this.clock.setTimer(() => {
      this.cancelExpiry = null;
      this.expiryArmedAt = null;
      this.armExpiry();
    }, earliest - now);
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
