import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DeliveryRow } from '../../channels/deliveries.js';
import { ApiError, conflict, forbidden } from '../../lib/errors.js';
import { actorOf, type RouteContext } from '../context.js';
import { errorBody, idParams } from '../../../api/schemas.js';
import {
  deliveryList,
  deliveryListQuery,
  deliveryView,
  type DeliveryView,
} from '../../../api/admin-schemas.js';

function toDeliveryView(row: DeliveryRow): DeliveryView {
  return {
    id: row.id,
    channel: row.channel,
    target: row.target,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    nextAttemptAt: row.status === 'pending' ? (row.next_attempt_at?.toISOString() ?? null) : null,
    createdAt: row.created_at.toISOString(),
    deliveredAt: row.delivered_at?.toISOString() ?? null,
  };
}

export const deliveryRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/admin/deliveries',
      {
        schema: {
          tags: ['channels'],
          summary: 'Deliveries to webhooks, newest first (administrators)',
          description:
            'Filter by status (pending, failed: the dead letters, delivered) and channel. A failed delivery can be sent again.',
          querystring: deliveryListQuery,
          response: { 200: deliveryList, 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => {
        if (!actorOf(request).isAdmin)
          throw forbidden('admin_only', 'Only administrators may list deliveries.');
        const rows = await context.deliveries.list(request.query);
        return { items: rows.map(toDeliveryView) };
      },
    );

    app.post(
      '/v1/admin/deliveries/:id/retry',
      {
        schema: {
          tags: ['channels'],
          summary: 'Send a failed delivery again, with the same id (administrators)',
          params: idParams,
          response: {
            200: deliveryView,
            401: errorBody,
            403: errorBody,
            404: errorBody,
            409: errorBody,
          },
        },
      },
      async (request) => {
        if (!actorOf(request).isAdmin)
          throw forbidden('admin_only', 'Only administrators may send deliveries again.');
        const outcome = await context.deliveries.retry(request.params.id);
        if (!outcome) {
          throw new ApiError(404, 'delivery_not_found', `No delivery with id "${request.params.id}" exists.`);
        }
        if (!outcome.retried) {
          throw conflict(
            'delivery_not_failed',
            `Delivery ${outcome.row.id} is ${outcome.row.status}: only a failed delivery is sent again by hand.`,
            { status: outcome.row.status },
          );
        }
        return toDeliveryView(outcome.row);
      },
    );
  };
