import { connect, createServer, type Server, type Socket } from 'node:net';

interface Relay {
  readonly client: Socket;
  readonly upstream: Socket | null;
  /** Black-holed: nothing it sends or receives is forwarded again, nor its FIN (a forgotten NAT entry). */
  dead: boolean;
}

/**
 * A TCP relay between the service and PostgreSQL whose faults the test chooses, as a network and a
 * database fail in production: `reset` (every open connection cut with an RST), `refuse` (new connections
 * refused, open ones reset), `blackHole` (connections, open and new, accepted but nothing forwarded, ever),
 * `slow` (every chunk delayed) and `heal`. The test itself reaches PostgreSQL directly.
 */
export class FaultProxy {
  private server: Server | null = null;
  private readonly relays = new Set<Relay>();
  private blackHoled = false;
  private delayMs = 0;
  private resetArmed: (() => void) | null = null;

  private constructor(
    private readonly target: { readonly host: string; readonly port: number },
    private boundPort: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<FaultProxy> {
    const proxy = new FaultProxy(target, 0);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.boundPort;
  }

  /** Connections open through the proxy (black-holed ones included). */
  get openConnections(): number {
    return this.relays.size;
  }

  /** Cuts every open connection with an RST, as a restarted database or a reaping load balancer. */
  reset(): void {
    for (const relay of this.relays) this.cut(relay);
  }

  /**
   * Cuts every open connection the moment the service next sends something to the database, so at least
   * one statement is in flight when they go; resolves once they are cut.
   */
  resetAtNextSend(): Promise<void> {
    return new Promise((resolve) => {
      this.resetArmed = () => {
        this.resetArmed = null;
        this.reset();
        resolve();
      };
    });
  }

  /** Refuses new connections (ECONNREFUSED) and cuts the open ones, as a database that is down. */
  async refuse(): Promise<void> {
    this.reset();
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  }

  /** From now on nothing is forwarded, on open connections or new ones, as a network partition. */
  blackHole(): void {
    this.blackHoled = true;
    for (const relay of this.relays) relay.dead = true;
  }

  /** Delays every chunk by `ms` each way, as a congested link or an overloaded database. */
  slow(ms: number): void {
    this.delayMs = ms;
  }

  /** Forwards again, promptly, on new connections; black-holed ones stay dead, as after a real partition
   * whose state the network forgot. */
  async heal(): Promise<void> {
    this.blackHoled = false;
    this.delayMs = 0;
    await this.listen();
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private cut(relay: Relay): void {
    this.relays.delete(relay);
    relay.client.resetAndDestroy();
    relay.upstream?.resetAndDestroy();
  }

  private async listen(): Promise<void> {
    if (this.server) return;
    // allowHalfOpen: a FIN is forwarded, not answered by the proxy itself, so a black hole swallows it.
    const server = createServer({ allowHalfOpen: true }, (client) => {
      this.accept(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, '127.0.0.1', () => {
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    this.boundPort = address.port;
    this.server = server;
  }

  private accept(client: Socket): void {
    const upstream = this.blackHoled
      ? null
      : connect({ port: this.target.port, host: this.target.host, allowHalfOpen: true });
    const relay: Relay = { client, upstream, dead: this.blackHoled };
    this.relays.add(relay);
    const forget = () => {
      this.relays.delete(relay);
      if (relay.dead) return; // a black hole tells neither side
      client.destroy();
      upstream?.destroy();
    };
    client.on('error', forget);
    client.on('close', forget);
    if (!upstream) return;
    upstream.on('error', forget);
    upstream.on('close', forget);
    this.forward(relay, client, upstream, true);
    this.forward(relay, upstream, client, false);
  }

  private forward(relay: Relay, from: Socket, to: Socket, fromService: boolean): void {
    const pass = (send: () => void) => {
      if (relay.dead) return;
      if (this.delayMs === 0) {
        send();
        return;
      }
      // Timers of one delay fire in the order they were set: the stream stays in order.
      setTimeout(() => {
        if (!relay.dead && !to.destroyed) send();
      }, this.delayMs);
    };
    from.on('data', (chunk: Buffer) => {
      if (fromService && this.resetArmed) {
        this.resetArmed();
        return;
      }
      pass(() => to.write(chunk));
    });
    from.on('end', () => {
      pass(() => to.end());
    });
  }
}
