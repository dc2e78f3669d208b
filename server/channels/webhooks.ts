import { Webhook } from 'standardwebhooks';
import type { Announcement } from '../domain/announcements.js';
import type { WebhookTarget } from '../policy/types.js';
import type { Addressed, Channel, Delivery } from './channel.js';

/**
 * Webhooks signed per Standard Webhooks (https://www.standardwebhooks.com): headers `webhook-id` (the
 * delivery's id, the same on every retry), `webhook-timestamp` (the attempt, in seconds) and
 * `webhook-signature` (`v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>`); the body is
 * `{type, timestamp, data}`, with the event's time. A 2xx answer accepts it; anything else is retried.
 */
export class WebhookChannel implements Channel {
  readonly name = 'webhook';
  private readonly targets: ReadonlyMap<string, { target: WebhookTarget; signer: Webhook }>;

  constructor(
    targets: readonly WebhookTarget[],
    private readonly timeoutMs: number,
  ) {
    this.targets = new Map(
      targets.map((target) => [target.id, { target, signer: new Webhook(target.secret) }]),
    );
  }

  address(announcement: Announcement, now: number): Addressed[] {
    // Asking approvers is for the people asked (mail, chat); receivers hear of the request's creation.
    if (announcement.type === 'approval.needed') return [];
    const payload = {
      type: announcement.type,
      timestamp: new Date(now).toISOString(),
      data: announcement.data,
    };
    return [...this.targets.values()]
      .filter(({ target }) => target.events === null || target.events.has(announcement.type))
      .map(({ target }) => ({ target: target.id, eventType: announcement.type, payload }));
  }

  async send(delivery: Delivery, now: number, abandon: AbortSignal): Promise<void> {
    const hook = this.targets.get(delivery.target);
    if (!hook) throw new Error(`webhook "${delivery.target}" is no longer in the policy`);
    const body = JSON.stringify(delivery.payload);
    let response: Response;
    try {
      response = await fetch(hook.target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Timebox-Webhooks',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(Math.floor(now / 1000)),
          'webhook-signature': hook.signer.sign(delivery.id, new Date(now), body),
        },
        body,
        // A receiver that moved answers 3xx, which is a failure to report, not a place to send secrets to.
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), abandon]),
      });
    } catch (error) {
      throw new Error(describeFetchError(error, this.timeoutMs), { cause: error });
    }
    // The answer's body is not ours to read: let the connection go.
    await response.body?.cancel().catch(() => undefined);
    if (response.status < 200 || response.status > 299) {
      throw new Error(`the receiver answered ${response.status}`);
    }
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return `no answer within ${timeoutMs / 1000} s`;
  }
  if (error instanceof DOMException && error.name === 'AbortError') {
    return 'the service stopped before the receiver answered';
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
  const code = cause && 'code' in cause && typeof cause.code === 'string' ? cause.code : null;
  return `could not reach the receiver${code ? ` (${code})` : cause ? ` (${cause.message})` : ''}`;
}
