import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';

/** What a receiver does with the next call: accept it (204), answer 500, or never answer. */
export type ReceiverBehaviour = 'accept' | 'fail' | 'hang';

export interface ReceivedWebhook {
  readonly id: string;
  readonly timestamp: number;
  readonly type: string;
  readonly body: {
    readonly type: string;
    readonly timestamp: string;
    readonly data: Record<string, unknown>;
  };
  readonly rawBody: string;
  /** How it was answered. */
  readonly answer: ReceiverBehaviour;
}

/**
 * A local webhook receiver that checks every call as a real one would, with the `standardwebhooks`
 * library and the shared secret; a call whose signature does not verify fails the test.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  readonly refused: string[] = [];
  behaviour: ReceiverBehaviour = 'accept';
  private readonly hanging: ServerResponse[] = [];
  private readonly verifier: Webhook;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    secret: string,
  ) {
    this.verifier = new Webhook(secret);
  }

  static async start(secret: string): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | null = null;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        receiver?.receive(request.headers, Buffer.concat(chunks).toString('utf8'), response);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/hook`, secret);
    return receiver;
  }

  /** Calls received but not answered yet (a receiver that hangs). */
  get waiting(): number {
    return this.hanging.length;
  }

  ids(): string[] {
    return this.received.map((call) => call.id);
  }

  private receive(headers: IncomingHttpHeaders, rawBody: string, response: ServerResponse): void {
    const id = String(headers['webhook-id']);
    const timestamp = Number(headers['webhook-timestamp']);
    // The library refuses a timestamp 5 minutes from its own clock; the service's clock is the tests'
    // manual one, so the check runs as of the call's own time. The signature is checked in full.
    const now = vi.spyOn(Date, 'now').mockReturnValue(timestamp * 1000);
    try {
      this.verifier.verify(rawBody, {
        'webhook-id': id,
        'webhook-timestamp': String(headers['webhook-timestamp']),
        'webhook-signature': String(headers['webhook-signature']),
      });
    } catch (error) {
      this.refused.push(`${id}: ${error instanceof Error ? error.message : String(error)}`);
      response.writeHead(401).end();
      return;
    } finally {
      now.mockRestore();
    }
    const body = JSON.parse(rawBody) as ReceivedWebhook['body'];
    const answer = this.behaviour;
    this.received.push({ id, timestamp, type: body.type, body, rawBody, answer });
    if (answer === 'accept') response.writeHead(204).end();
    else if (answer === 'fail') response.writeHead(500).end('broken');
    else this.hanging.push(response);
  }

  async close(): Promise<void> {
    for (const response of this.hanging.splice(0)) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }
}
