import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Reads one `GET /v1/events` stream and keeps what arrives, for tests to wait on. */
export class EventStream {
  readonly events: EventSourceMessage[] = [];
  readonly comments: string[] = [];
  status = 0;
  private readonly controller = new AbortController();
  private waiters: (() => void)[] = [];
  private ended = false;

  private constructor() {}

  static async open(baseUrl: string, token: string, lastEventId?: string): Promise<EventStream> {
    const stream = new EventStream();
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(`${baseUrl}/v1/events`, { headers, signal: stream.controller.signal });
    stream.status = response.status;
    if (!response.ok || !response.body) {
      stream.ended = true;
      return stream;
    }
    const parser = createParser({
      onEvent: (event) => {
        stream.events.push(event);
        stream.notify();
      },
      onComment: (comment) => {
        stream.comments.push(comment);
        stream.notify();
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parser.feed(value);
        }
      } catch {
        // aborted by close()
      } finally {
        stream.ended = true;
        stream.notify();
      }
    })();
    // Wait for the greeting, so the subscription exists before the test acts.
    await stream.until(() => stream.comments.includes('connected'), 'the stream greeting');
    return stream;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  of(type: string): EventSourceMessage[] {
    return this.events.filter((event) => event.event === type);
  }

  /** Resolves when `ready()` holds; fails after `timeoutMs` with what was received. */
  async until(ready: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${what}; received ${JSON.stringify(this.events.map((e) => [e.id, e.event]))}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The first event of `type` matching `where`, waiting for it if needed. */
  async next(
    type: string,
    where: (data: unknown) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<unknown> {
    const find = () => this.of(type).find((event) => where(JSON.parse(event.data)));
    await this.until(() => find() !== undefined, `a ${type} event`, timeoutMs);
    const found = find();
    return found ? JSON.parse(found.data) : undefined;
  }

  close(): void {
    this.controller.abort();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
