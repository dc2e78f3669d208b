import { z } from 'zod';
import { isoTime } from './wire.js';

/** The wire shapes of what administrators read: seat pools' use, and deliveries to channels outside the app. */

export const seatPoolReportQuery = z.strictObject({
  from: isoTime.optional().describe('start of the period (default: 7 days before `to`)'),
  to: isoTime.optional().describe('end of the period (default: now); at most 366 days after `from`'),
});

export const seatPoolReport = z
  .object({
    resourceId: z.string(),
    role: z.string(),
    seats: z.int(),
    peakInUse: z.int(),
    averageInUse: z.number(),
    seatHoursUsed: z.number(),
    grants: z.int(),
    people: z.int(),
    queue: z.object({
      requests: z.int(),
      totalWaitSeconds: z.number(),
      averageWaitSeconds: z.number(),
      longestWaitSeconds: z.number(),
    }),
    alwaysAssigned: z
      .object({ seats: z.int(), seatHours: z.number(), idleSeatHours: z.number() })
      .describe('the same use under named seats held all the time by everyone who used the tool'),
  })
  .meta({ id: 'SeatPoolReport' });

export const seatPoolReports = z.object({
  from: isoTime,
  to: isoTime,
  items: z.array(seatPoolReport),
});

/** What the service tells webhook receivers about, as Standard Webhooks event types. */
export const WEBHOOK_EVENT_TYPES = [
  'request.created',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.lapsed',
  'grant.activated',
  'grant.extended',
  'grant.ended',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;

export const deliveryView = z
  .object({
    id: z.string().describe("the delivery's stable id (a webhook's webhook-id), the same on every attempt"),
    channel: z.string().describe('webhook'),
    target: z.string().describe('which one of the channel: a webhook by its id in the policy'),
    eventType: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.int(),
    lastError: z.string().nullable(),
    nextAttemptAt: isoTime.nullable().describe('when a pending delivery is tried next'),
    createdAt: isoTime,
    deliveredAt: isoTime.nullable(),
  })
  .meta({ id: 'Delivery' });

export const deliveryListQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  channel: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const deliveryList = z.object({ items: z.array(deliveryView) });

export type DeliveryView = z.output<typeof deliveryView>;
export type SeatPoolReportView = z.output<typeof seatPoolReport>;
export type SeatPoolReportsView = z.output<typeof seatPoolReports>;
