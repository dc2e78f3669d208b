import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { assertStepUp } from '../../auth/step-up.js';
import { actorOf, idempotencyKeyOf, sessionOf, type RouteContext } from '../context.js';
import {
  approveBody,
  cancelBody,
  createRequestBody,
  denyBody,
  errorBody,
  idParams,
  listOf,
  requestListQuery,
  requestPreviewView,
  requestView,
  idempotencyHeaders,
} from '../../../api/schemas.js';

const refusals = { 400: errorBody, 401: errorBody, 403: errorBody, 404: errorBody, 409: errorBody } as const;

export const requestRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/requests',
      {
        schema: {
          tags: ['requests'],
          summary: 'Ask for access; an Idempotency-Key makes a retry return the first answer',
          headers: idempotencyHeaders,
          body: createRequestBody,
          response: { 201: requestView, ...refusals, 422: errorBody },
        },
      },
      async (request, reply) => {
        assertStepUp(context.policy, sessionOf(request), request.body, context.clock.now());
        const result = await context.requests.create(
          actorOf(request),
          request.body,
          idempotencyKeyOf(request),
          request.ip,
        );
        return reply.code(result.statusCode).send(result.body);
      },
    );

    app.post(
      '/v1/requests/preview',
      {
        schema: {
          tags: ['requests'],
          summary:
            'What POST /v1/requests would do with this body now: whether it passes, why not, who decides',
          description:
            'Changes nothing. Every problem is listed (not only the first), with the body field to change and the code POST /v1/requests would answer.',
          body: createRequestBody,
          response: { 200: requestPreviewView, ...refusals },
        },
      },
      async (request) => context.requests.preview(actorOf(request), request.body, request.ip),
    );

    app.get(
      '/v1/requests',
      {
        schema: {
          tags: ['requests'],
          summary: 'My requests, those I may decide now (approvable), or every request (admins)',
          querystring: requestListQuery,
          response: { 200: listOf(requestView), ...refusals },
        },
      },
      async (request) => context.requests.list(actorOf(request), request.query),
    );

    app.get(
      '/v1/requests/:id',
      {
        schema: {
          tags: ['requests'],
          summary: 'One request',
          params: idParams,
          response: { 200: requestView, ...refusals },
        },
      },
      async (request) => context.requests.get(actorOf(request), request.params.id),
    );

    app.post(
      '/v1/requests/:id/approve',
      {
        schema: {
          tags: ['requests'],
          summary: 'Approve a pending request at its current stage',
          params: idParams,
          body: approveBody,
          response: { 200: requestView, ...refusals },
        },
      },
      async (request) =>
        context.requests.decide(
          actorOf(request),
          request.params.id,
          'approve',
          request.body?.comment?.trim() ?? '',
        ),
    );

    app.post(
      '/v1/requests/:id/deny',
      {
        schema: {
          tags: ['requests'],
          summary: 'Deny a pending request; a comment is required',
          params: idParams,
          body: denyBody,
          response: { 200: requestView, ...refusals },
        },
      },
      async (request) =>
        context.requests.decide(actorOf(request), request.params.id, 'deny', request.body.comment.trim()),
    );

    app.post(
      '/v1/requests/:id/cancel',
      {
        schema: {
          tags: ['requests'],
          summary:
            "Withdraw my pending or queued request; an administrator withdraws anyone's, with a reason",
          params: idParams,
          body: cancelBody,
          response: { 200: requestView, ...refusals },
        },
      },
      async (request) =>
        context.requests.cancel(actorOf(request), request.params.id, request.body?.reason?.trim() ?? ''),
    );
  };
