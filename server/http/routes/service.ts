import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../../db/database.js';
import type { RouteContext } from '../context.js';

const HEALTH_DEADLINE_MS = 900;

/** Whether the database answers `SELECT 1` within `ms` (a slower answer counts as none). */
async function answersWithin(db: Database, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => {
      resolve(false);
    }, ms);
  });
  try {
    return await Promise.race([
      db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export const serviceRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/.well-known/jwks.json',
      {
        schema: {
          tags: ['service'],
          summary:
            'Public keys that verify credential tokens: the current key and retired keys whose tokens live on',
          security: [],
          response: { 200: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }) },
        },
      },
      async (_request, reply) => {
        void reply.header('cache-control', 'public, max-age=300');
        return { keys: await context.keys.publishedKeys() };
      },
    );

    app.get(
      '/healthz',
      {
        schema: {
          tags: ['service'],
          summary: 'Liveness and database reachability',
          security: [],
          response: {
            200: z.object({ ok: z.literal(true), db: z.enum(['pglite', 'postgres']), version: z.string() }),
            503: z.object({
              ok: z.literal(false),
              db: z.enum(['pglite', 'postgres']),
              version: z.string(),
              error: z.string(),
            }),
          },
        },
      },
      async (_request, reply) => {
        // Probes have deadlines of their own: answer within one second whatever the database does.
        if (context.db.health.available && (await answersWithin(context.db, HEALTH_DEADLINE_MS))) {
          return { ok: true as const, db: context.db.kind, version: context.version };
        }
        return reply.code(503).send({
          ok: false,
          db: context.db.kind,
          version: context.version,
          error: 'the database does not answer',
        });
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['service'],
          summary: 'Prometheus metrics',
          security: [],
          response: { 200: z.string() },
        },
      },
      async (_request, reply) => {
        void reply.header('content-type', context.metrics.registry.contentType);
        return context.metrics.registry.metrics();
      },
    );

    // The servers are where the document was fetched from, or the policy's public URL: a client generated
    // from it talks to the service that described itself.
    app.get('/openapi.json', { schema: { hide: true } }, async (request) => ({
      ...app.swagger(),
      servers: [
        {
          url: context.policy.service.publicUrl ?? `${request.protocol}://${request.host}`,
          description: 'this Timebox grant service',
        },
      ],
    }));
  };
