import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { ScimError, USER_SCHEMA } from '../../identity/scim/protocol.js';
import type { ScimUsers } from '../../identity/scim/users.js';
import { ApiError } from '../../lib/errors.js';

const SCIM_JSON = 'application/scim+json';
const hidden = { schema: { hide: true } };

const SERVICE_PROVIDER_CONFIG = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
  patch: { supported: true },
  bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
  filter: { supported: true, maxResults: 200 },
  changePassword: { supported: false },
  sort: { supported: false },
  etag: { supported: false },
  authenticationSchemes: [
    { type: 'oauthbearertoken', name: 'Bearer token', description: 'identity.scim.tokenEnv or tokenFile' },
  ],
};

const USER_RESOURCE_TYPE = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
  id: 'User',
  name: 'User',
  endpoint: '/Users',
  schema: USER_SCHEMA,
};

const USER_SCHEMA_DEFINITION = {
  id: USER_SCHEMA,
  name: 'User',
  attributes: [
    { name: 'userName', type: 'string', required: true, uniqueness: 'server', mutability: 'immutable' },
    { name: 'displayName', type: 'string', required: false, mutability: 'readWrite' },
    { name: 'externalId', type: 'string', required: false, mutability: 'readWrite' },
    { name: 'active', type: 'boolean', required: false, mutability: 'readWrite' },
    { name: 'groups', type: 'complex', multiValued: true, mutability: 'readOnly' },
  ],
};

/**
 * SCIM 2.0 (RFC 7644) at /scim/v2 for the IdP's provisioning: its own bearer token (never a person's),
 * SCIM's media type and error shape. SCIM is its own protocol with its own discovery (/Schemas), so these
 * routes are left out of /openapi.json.
 */
export const scimRoutes =
  (scimTokenHash: string | null, users: ScimUsers): FastifyPluginAsync =>
  async (app) => {
    app.addContentTypeParser(SCIM_JSON, { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
    app.setErrorHandler((error: unknown, request, reply) => {
      const scim = scimErrorOf(error);
      if (scim.status >= 500) request.log.error({ err: error }, 'SCIM call failed');
      void send(reply.code(scim.status), scim.body());
    });
    app.addHook('onRequest', async (request) => {
      if (!bearerMatches(request.headers.authorization, scimTokenHash)) {
        throw new ScimError(401, null, 'Send the SCIM bearer token the policy names (identity.scim).');
      }
    });
    routes(app, users);
  };

function routes(app: FastifyInstance, users: ScimUsers): void {
  app.get('/scim/v2/ServiceProviderConfig', hidden, async (_request, reply) =>
    send(reply, SERVICE_PROVIDER_CONFIG),
  );
  app.get('/scim/v2/ResourceTypes', hidden, async (_request, reply) =>
    send(reply, listOf([USER_RESOURCE_TYPE])),
  );
  app.get('/scim/v2/Schemas', hidden, async (_request, reply) =>
    send(reply, listOf([USER_SCHEMA_DEFINITION])),
  );

  app.get<{ Querystring: Record<string, string | undefined> }>(
    '/scim/v2/Users',
    hidden,
    async (request, reply) => {
      const { filter, startIndex, count } = request.query;
      return send(reply, await users.list(filter, positive(startIndex, 1), positive(count, 100)));
    },
  );
  app.post('/scim/v2/Users', hidden, async (request, reply) =>
    send(reply.code(201), await users.create(request.body)),
  );
  app.get<{ Params: { id: string } }>('/scim/v2/Users/:id', hidden, async (request, reply) =>
    send(reply, await users.get(request.params.id)),
  );
  app.put<{ Params: { id: string } }>('/scim/v2/Users/:id', hidden, async (request, reply) =>
    send(reply, await users.replace(request.params.id, request.body)),
  );
  app.patch<{ Params: { id: string } }>('/scim/v2/Users/:id', hidden, async (request, reply) =>
    send(reply, await users.patch(request.params.id, request.body)),
  );
  app.delete<{ Params: { id: string } }>('/scim/v2/Users/:id', hidden, async (request, reply) => {
    await users.delete(request.params.id);
    return reply.code(204).send();
  });
}

function send(reply: FastifyReply, body: unknown): FastifyReply {
  return reply.header('content-type', SCIM_JSON).send(JSON.stringify(body));
}

function listOf(resources: readonly unknown[]): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

function positive(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new ScimError(400, 'invalidValue', 'startIndex and count must be whole numbers.');
  }
  return number;
}

function bearerMatches(authorization: string | undefined, expectedHash: string | null): boolean {
  if (expectedHash === null) return false;
  const [scheme, token, ...rest] = (authorization ?? '').trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || token === undefined || rest.length > 0) return false;
  const hash = Buffer.from(createHash('sha256').update(token).digest('hex'));
  const expected = Buffer.from(expectedHash);
  return hash.length === expected.length && timingSafeEqual(hash, expected);
}

function scimErrorOf(error: unknown): ScimError {
  if (error instanceof ScimError) return error;
  if (error instanceof ApiError) return new ScimError(error.status, null, error.message);
  // Fastify's own refusals (a body that is not JSON, an unsupported media type, too large).
  if (
    error instanceof Error &&
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode < 500
  )
    return new ScimError(error.statusCode, error.statusCode === 400 ? 'invalidSyntax' : null, error.message);
  return new ScimError(500, null, 'The service failed to do this; try again.');
}
