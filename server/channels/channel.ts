import type { Announcement } from '../domain/announcements.js';

/** One message to one target, as the outbox holds it; the same id and payload on every attempt. */
export interface Delivery {
  /** Stable across retries (a webhook's webhook-id), so receivers can drop repeats. */
  readonly id: string;
  readonly channel: string;
  readonly target: string;
  readonly eventType: string;
  readonly payload: unknown;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** A message for one of a channel's targets. */
export interface Addressed {
  readonly target: string;
  readonly eventType: string;
  readonly payload: object;
}

/**
 * One way of telling someone outside the app (webhooks; mail and chat to come). The outbox asks each
 * channel whom an announcement goes to as the change commits, and the delivery worker hands it each
 * delivery to send, as often as it takes. A new kind of delivery is a new channel: nothing else changes.
 */
export interface Channel {
  /** Stored with each delivery, and how the worker finds the channel again. */
  readonly name: string;
  /** Whom `announcement`, made at `now`, goes to, with what; nobody is an empty list. */
  address(announcement: Announcement, now: number): Addressed[];
  /**
   * Sends one delivery at `now`; resolves once the target accepted it, rejects with a message that can
   * be shown to an administrator (never a secret) when it did not. Must give up after its timeout, or
   * when `abandon` fires (the service is stopping: the delivery is tried again later).
   */
  send(delivery: Delivery, now: number, abandon: AbortSignal): Promise<void>;
}
