import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actorOf, idempotencyKeyOf, noStore, type RouteContext } from '../context.js';
import {
  credentialView,
  errorBody,
  extendBody,
  grantListQuery,
  grantView,
  idParams,
  listOf,
  requestView,
  revokeBody,
  idempotencyHeaders,
} from '../../../api/schemas.js';

const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

export const grantRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/grants',
      {
        schema: {
          tags: ['grants'],
          summary: 'My grants, or everyone’s (admins), active or ended',
          querystring: grantListQuery,
          response: { 200: listOf(grantView), ...refusals },
        },
      },
      async (request) => context.grants.list(actorOf(request), request.query),
    );

    app.get(
      '/v1/grants/:id',
      {
        schema: {
          tags: ['grants'],
          summary: 'One grant',
          params: idParams,
          response: { 200: grantView, ...refusals },
        },
      },
      async (request) => context.grants.get(actorOf(request), request.params.id),
    );

    app.get(
      '/v1/grants/:id/credential',
      {
        schema: {
          tags: ['grants'],
          summary: "The grant's credential, to its owner, while the grant is active (410 afterwards)",
          params: idParams,
          response: { 200: credentialView, ...refusals, 410: errorBody },
        },
      },
      async (request, reply) => {
        noStore(reply);
        return context.grants.credential(actorOf(request), request.params.id);
      },
    );

    app.post(
      '/v1/grants/:id/extend',
      {
        schema: {
          tags: ['grants'],
          summary: 'More time: 200 Grant when the policy extends at once, 202 Request when it needs approval',
          params: idParams,
          headers: idempotencyHeaders,
          body: extendBody,
          response: { 200: grantView, 202: requestView, ...refusals, 422: errorBody },
        },
      },
      async (request, reply) => {
        const result = await context.grants.extend(
          actorOf(request),
          request.params.id,
          request.body,
          idempotencyKeyOf(request),
          request.ip,
        );
        return reply.code(result.statusCode).send(result.body);
      },
    );

    app.post(
      '/v1/grants/:id/revoke',
      {
        schema: {
          tags: ['grants'],
          summary: 'End a grant now: the owner relinquishes it, an administrator revokes it',
          params: idParams,
          body: revokeBody,
          response: { 200: grantView, ...refusals },
        },
      },
      async (request) =>
        context.grants.revoke(actorOf(request), request.params.id, request.body?.reason?.trim() || null),
    );
  };
