import { readFileSync } from 'node:fs';
import fastifySwagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

const PACKAGE = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
  license: string;
};

/** Every tag a route may carry, described once; a route with another tag fails the OpenAPI lint test. */
const TAGS = [
  { name: 'service', description: 'Health, metrics and the signing keys of credential tokens.' },
  { name: 'auth', description: 'Signing in and out, the caller, and their sessions.' },
  { name: 'catalog', description: 'What can be requested, and how full the seat pools are.' },
  { name: 'requests', description: 'Asking for access, and deciding on the asks.' },
  { name: 'grants', description: 'Access given for a time: its credential, extension and end.' },
  { name: 'credentials', description: 'Resource servers asking whether a credential is active (RFC 7662).' },
  { name: 'events', description: 'The live event stream (Server-Sent Events).' },
  { name: 'audit', description: 'The hash-chained audit log: read, verify, export.' },
  { name: 'insights', description: 'How access is asked for and used, and what to change (administrators).' },
  { name: 'reports', description: 'Access reviews for auditors: CSV and a printable page.' },
  { name: 'channels', description: 'Deliveries to channels outside the app (webhooks), for administrators.' },
];

/**
 * A stable operationId from the route itself, for generated clients: the method and the path's words,
 * a parameter as `By<Name>` (`POST /v1/requests/:id/approve` is `postRequestsByIdApprove`).
 */
export function operationIdOf(method: string, url: string): string {
  const words = url
    .split(/[/.\-_]/)
    .filter((part) => part !== '' && part !== 'v1')
    .map((part) => (part.startsWith(':') ? `By${capitalised(part.slice(1))}` : capitalised(part)));
  return `${method.toLowerCase()}${words.join('')}`;
}

function capitalised(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const withOperationId: SwaggerTransform = (data) => {
  const transformed = jsonSchemaTransform(data);
  const method = [data.route.method].flat()[0] ?? 'get';
  return { ...transformed, schema: { operationId: operationIdOf(method, data.url), ...transformed.schema } };
};

/**
 * The schemas no operation refers to, left out: the zod transform writes an input and an output
 * variant of every named schema, and most are only ever one of the two.
 */
const withoutUnusedSchemas: SwaggerTransformObject = (documentObject) => {
  const document = jsonSchemaTransformObject(documentObject);
  if (!('components' in document) || !document.components?.schemas) return document;
  const { schemas } = document.components;
  const refersTo = (value: unknown): string[] =>
    [...JSON.stringify(value).matchAll(/"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1] ?? '');
  const used = new Set(refersTo({ ...document, components: { ...document.components, schemas: {} } }));
  for (let added = [...used]; added.length > 0;) {
    added = added.flatMap((name) => refersTo(schemas[name]).filter((next) => !used.has(next)));
    for (const name of added) used.add(name);
  }
  // The document is the transform's own new object: trimmed in place.
  for (const name of Object.keys(schemas)) if (!used.has(name)) Reflect.deleteProperty(schemas, name);
  return document;
};

/**
 * `/openapi.json`, generated from the routes' zod schemas, linted clean by Redocly's recommended and
 * Spectral's oas rules (test/server/openapi-lint.test.ts; the rules' settings in redocly.yaml and
 * .spectral.yaml). `servers` is added per request, by the route that serves the document.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Timebox grant API',
        version: PACKAGE.version,
        description:
          'Just-in-time access: requests, approvals, expiring grants, credentials, live events and audit.',
        license: { name: PACKAGE.license },
      },
      tags: TAGS,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: withOperationId,
    transformObject: withoutUnusedSchemas,
  });
}
