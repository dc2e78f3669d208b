import type { Parameters } from '../db/parameters.js';
import type { Announcement, AnnouncementOutbox } from '../domain/announcements.js';
import { newId } from '../lib/ids.js';
import type { Addressed, Channel } from './channel.js';

/** A claimed delivery is taken over by another instance if its claimer has not finished it by then. */
export const DELIVERY_LEASE_MS = 60_000;

/** A delivery to be written: which channel, and what for whom. */
export interface OutgoingRow extends Addressed {
  readonly channel: string;
}

/**
 * The outbox the domain writes its announcements to: each channel says whom an announcement goes to, and
 * one delivery row per target is written in the statement that commits the change (as a WITH item), due
 * at once. The delivery worker hears of the commit and sends them.
 */
export class ChannelOutbox implements AnnouncementOutbox {
  private readonly listeners: ((now: number) => void)[] = [];

  constructor(
    private readonly channels: readonly Channel[],
    private readonly retryForMs: number,
  ) {}

  writeSql(
    parameters: Parameters,
    now: number,
    announcements: readonly Announcement[],
    onlyIf?: string,
  ): string[] {
    const rows = announcements.flatMap((announcement) =>
      this.channels.flatMap((channel) =>
        channel.address(announcement, now).map((addressed) => ({ channel: channel.name, ...addressed })),
      ),
    );
    if (rows.length === 0) return [];
    return [`outboxed AS (${insertDeliveriesSql(parameters, now, now + this.retryForMs, rows, onlyIf)})`];
  }

  /** Hears of every commit that wrote deliveries. */
  onCommitted(listener: (now: number) => void): void {
    this.listeners.push(listener);
  }

  committed(now: number): void {
    for (const listener of this.listeners) listener(now);
  }

  takeoverAt(now: number): number {
    return now + DELIVERY_LEASE_MS;
  }
}

/**
 * The INSERT of deliveries due at `now`, given up at `giveUpAt`; with `onlyIf`, written only when it
 * holds. Any writer of deliveries (the audit's sinks, say) can make it part of its own statement.
 */
export function insertDeliveriesSql(
  parameters: Parameters,
  now: number,
  giveUpAt: number,
  rows: readonly OutgoingRow[],
  onlyIf?: string,
): string {
  const columns: [string, unknown[]][] = [
    ['text', rows.map(() => newId('dlv'))],
    ['text', rows.map((row) => row.channel)],
    ['text', rows.map((row) => row.target)],
    ['text', rows.map((row) => row.eventType)],
    ['jsonb', rows.map((row) => JSON.stringify(row.payload))],
  ];
  const unnested = columns.map(([type, values]) => `${parameters.add(values)}::${type}[]`).join(', ');
  const at = parameters.add(new Date(now));
  return `INSERT INTO deliveries (id, channel, target, event_type, payload, status, next_attempt_at, give_up_at, created_at)
     SELECT d.id, d.channel, d.target, d.event_type, d.payload, 'pending', ${at}::timestamptz, ${parameters.add(new Date(giveUpAt))}::timestamptz, ${at}::timestamptz
       FROM unnest(${unnested}) AS d(id, channel, target, event_type, payload)${onlyIf ? ` WHERE ${onlyIf}` : ''}`;
}
