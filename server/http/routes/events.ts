import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest } from '../../lib/errors.js';
import { SERVICE_TIME_HEADER } from '../../../api/service-time.js';
import { sessionOf, type RouteContext } from '../context.js';
import { errorBody, eventStreamHeaders } from '../../../api/schemas.js';

function lastEventIdOf(header: string | string[] | undefined): number | null {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !/^\d{1,15}$/.test(header)) {
    throw badRequest('invalid_last_event_id', 'Last-Event-ID must be the id of an event this stream sent.');
  }
  return Number(header);
}

export const eventRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/events',
      {
        schema: {
          tags: ['events'],
          summary:
            'Server-Sent Events for the caller; resume with Last-Event-ID; a heartbeat comment every 15 s',
          headers: eventStreamHeaders,
          response: {
            200: z
              .string()
              .describe(
                'text/event-stream: approval.needed, request.updated, grant.activated, grant.extended, grant.expiring, grant.ended',
              ),
            400: errorBody,
            401: errorBody,
          },
        },
      },
      async (request, reply) => {
        const session = sessionOf(request);
        const lastEventId = lastEventIdOf(request.headers['last-event-id']);
        // The stream outlives this handler: Fastify hands the socket over and stops managing the reply.
        reply.hijack();
        const response = reply.raw;
        response.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no', // nginx would otherwise buffer the stream
          date: new Date(context.clock.now()).toUTCString(),
          [SERVICE_TIME_HEADER]: String(context.clock.now()),
        });
        const owner = { userId: session.user.id, sessionId: session.id, sessionExpiresAt: session.expiresAt };
        const close = await context.hub.open(owner, lastEventId, {
          write: (chunk) => {
            response.write(chunk);
          },
          get buffered() {
            return response.writableLength;
          },
          end: () => {
            response.end();
          },
        });
        request.raw.on('close', close);
      },
    );
  };
