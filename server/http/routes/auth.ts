import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { noStore, sessionOf, userView, type RouteContext } from '../context.js';
import {
  errorBody,
  idParams,
  listOf,
  loginBody,
  loginResponse,
  meView,
  sessionListQuery,
  sessionView,
} from '../../../api/schemas.js';

export const loginRoute =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/auth/login',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign in with a username, password and (when the account has one) a TOTP code',
          security: [],
          body: loginBody,
          response: { 200: loginResponse, 400: errorBody, 401: errorBody, 403: errorBody, 429: errorBody },
        },
      },
      async (request, reply) => {
        const { username, password, otp } = request.body;
        const result = await context.signIn.login(username, password, otp, {
          device: request.headers['user-agent'] ?? '',
          address: request.ip,
        });
        noStore(reply);
        return { token: result.token, expiresAt: result.expiresAt, user: userView(result.user) };
      },
    );
  };

export const sessionRoutes =
  (context: RouteContext): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'End this session: its token stops working at once',
          response: { 204: z.undefined(), 401: errorBody },
        },
      },
      async (request, reply) => {
        await context.sessions.logout(sessionOf(request));
        return reply.code(204).send();
      },
    );

    app.get(
      '/v1/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'The signed-in user, and how and when this session was signed in',
          response: { 200: meView, 401: errorBody },
        },
      },
      async (request) => {
        const session = sessionOf(request);
        return {
          ...userView(session.user),
          authMethod: session.authMethod,
          authTime: new Date(session.authTime).toISOString(),
          mfa: session.mfa,
        };
      },
    );

    app.get(
      '/v1/sessions',
      {
        schema: {
          tags: ['auth'],
          summary:
            "My live sessions (device, address, last use), or everyone's or one person's (administrators)",
          querystring: sessionListQuery,
          response: { 200: listOf(sessionView), 400: errorBody, 401: errorBody, 403: errorBody },
        },
      },
      async (request) => context.sessions.list(sessionOf(request), request.query),
    );

    app.post(
      '/v1/sessions/:id/end',
      {
        schema: {
          tags: ['auth'],
          summary:
            'End a live session: any of my own, or anyone’s (administrators). Its token stops working and its event streams end',
          params: idParams,
          response: { 204: z.undefined(), 401: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        await context.sessions.end(sessionOf(request), request.params.id);
        return reply.code(204).send();
      },
    );
  };
