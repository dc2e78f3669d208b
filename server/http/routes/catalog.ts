import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { seatUsage } from '../../domain/store.js';
import { toResourceView } from '../../domain/views.js';
import { actorOf, type RouteContext } from '../context.js';
import { errorBody, listOf, resourceView } from '../../../api/schemas.js';

export const catalogRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/resources',
      {
        schema: {
          tags: ['catalog'],
          summary: 'Every resource and role, with what the caller may request and how each is approved',
          response: { 200: listOf(resourceView), 401: errorBody },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const usage = await seatUsage(context.db);
        const items = [...context.policy.resources.values()].map((resource) =>
          toResourceView(
            context.policy,
            resource,
            actor,
            (role) => usage.get(`${resource.id}/${role}`) ?? { inUse: 0, queued: 0 },
          ),
        );
        return { items, next: null };
      },
    );
  };
