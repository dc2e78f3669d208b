import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OidcSignIn } from '../../identity/oidc-sign-in.js';
import type { Policy } from '../../policy/types.js';
import { noStore, userView } from '../context.js';
import {
  authMethodsView,
  errorBody,
  loginResponse,
  oidcStartQuery,
  oidcTokenBody,
} from '../../../api/schemas.js';

const providerParams = z.object({ provider: z.string().min(1).max(64) });
const redirect = z.undefined().describe('a redirect (Location)');

/** How people sign in, and single sign-on through the company's identity providers (no token needed). */
export const signInMethodRoutes =
  (policy: Policy, oidcSignIn: OidcSignIn): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/auth/methods',
      {
        schema: {
          tags: ['auth'],
          summary: 'How people sign in here: passwords, and the identity providers (one button each)',
          security: [],
          response: { 200: authMethodsView, 400: errorBody },
        },
      },
      async () => ({
        password: policy.identity.password,
        oidc: policy.identity.oidc.map((provider) => ({ id: provider.id, name: provider.name })),
      }),
    );

    app.get(
      '/v1/auth/oidc/:provider/start',
      {
        schema: {
          tags: ['auth'],
          summary: 'Start single sign-on for a native client: redirects the browser to the identity provider',
          security: [],
          params: providerParams,
          querystring: oidcStartQuery,
          response: { 302: redirect, 400: errorBody, 404: errorBody, 502: errorBody },
        },
      },
      async (request, reply) => {
        const location = await oidcSignIn.start(request.params.provider, request.query);
        noStore(reply);
        return reply.redirect(location, 302);
      },
    );

    app.get(
      '/v1/auth/oidc/:provider/callback',
      {
        schema: {
          tags: ['auth'],
          summary:
            'Where the identity provider sends the browser back: redirects to the client with a one-time code, or an error',
          security: [],
          params: providerParams,
          response: { 302: redirect, 400: errorBody, 404: errorBody },
        },
      },
      async (request, reply) => {
        const query = new URL(request.url, 'http://service.invalid').searchParams;
        const location = await oidcSignIn.callback(request.params.provider, query);
        noStore(reply);
        return reply.redirect(location, 302);
      },
    );

    app.post(
      '/v1/auth/oidc/token',
      {
        schema: {
          tags: ['auth'],
          summary: 'Redeem the one-time code of a single sign-on with the PKCE verifier, for a session',
          security: [],
          body: oidcTokenBody,
          response: { 200: loginResponse, 400: errorBody },
        },
      },
      async (request, reply) => {
        const result = await oidcSignIn.redeem(request.body.code, request.body.codeVerifier, {
          device: request.headers['user-agent'] ?? '',
          address: request.ip,
        });
        noStore(reply);
        return { token: result.token, expiresAt: result.expiresAt, user: userView(result.user) };
      },
    );
  };
