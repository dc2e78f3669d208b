import fastifyFormbody from '@fastify/formbody';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { noStore, type RouteContext } from '../context.js';
import { errorBody, introspectionBody, introspectionView } from '../../../api/schemas.js';

/**
 * `POST /v1/credentials/introspect` (RFC 7662), for resource servers with their own token. The form
 * body RFC 7662 specifies is read here only: every other route still takes JSON alone.
 */
export const introspectionRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(fastifyFormbody);
    // Before the body is read: a caller that is not a resource server never has its body parsed.
    app.addHook('onRequest', async (request) => {
      context.introspection.resourceServer(request.headers.authorization);
    });
    app.post(
      '/v1/credentials/introspect',
      {
        schema: {
          tags: ['credentials'],
          summary:
            "Whether a credential token is active (RFC 7662), for a resource server with its own token: form token=<jwt> or JSON {token}; {active: false} for anything but an active grant's token of a resource it serves",
          consumes: ['application/x-www-form-urlencoded', 'application/json'],
          body: introspectionBody,
          response: { 200: introspectionView, 400: errorBody, 401: errorBody, 415: errorBody },
        },
      },
      async (request, reply) => {
        noStore(reply);
        const server = context.introspection.resourceServer(request.headers.authorization);
        return context.introspection.introspect(server, request.body.token);
      },
    );
  };
