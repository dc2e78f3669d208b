import fc from 'fast-check';
import { NASTY_NUMBERS, NASTY_STRINGS, percentEncode, RAW_BODIES } from './nasty-values.js';

/**
 * Hostile requests for every route in the service's OpenAPI document: each route's own parameters and
 * body fields, filled with values of the right type, of the wrong type and of the kinds that break
 * services (control characters, lone surrogates, limits and one past them, prototype keys, deep nesting,
 * oversized bodies), sent with real, revoked and forged tokens and odd headers.
 */

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly maxLength?: number;
  readonly maximum?: number;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
}

export interface Route {
  readonly method: string;
  /** As the document writes it: /v1/requests/{id}/approve. */
  readonly template: string;
  readonly pathParams: readonly string[];
  readonly query: readonly { readonly name: string; readonly schema: JsonSchema }[];
  /** The JSON body's schema; null when the route takes none. */
  readonly body: JsonSchema | null;
}

/** One request as it goes over the wire. */
export interface HostileCase {
  readonly route: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** What the generators draw real values from: ids and tokens that exist, words the policy knows. */
export interface Pools {
  readonly ids: readonly string[];
  /** Valid sessions of several people, an administrator's among them. */
  readonly tokens: readonly string[];
  /** A session that was signed out. */
  readonly revokedToken: string;
  readonly words: readonly string[];
}

interface OpenApiOperation {
  readonly parameters?: readonly {
    readonly in: string;
    readonly name: string;
    readonly schema?: JsonSchema;
  }[];
  readonly requestBody?: { readonly content?: Readonly<Record<string, { readonly schema?: JsonSchema }>> };
}

/** Every operation in the document: the routes a client can be sent to. */
export function routesOf(document: unknown): Route[] {
  const paths = (document as { paths?: Record<string, Record<string, OpenApiOperation>> }).paths ?? {};
  return Object.entries(paths).flatMap(([template, operations]) =>
    Object.entries(operations).map(([method, operation]) => ({
      method: method.toUpperCase(),
      template,
      pathParams: (operation.parameters ?? [])
        .filter((param) => param.in === 'path')
        .map((param) => param.name),
      query: (operation.parameters ?? [])
        .filter((param) => param.in === 'query')
        .map((param) => ({ name: param.name, schema: param.schema ?? {} })),
      body: operation.requestBody?.content?.['application/json']?.schema ?? null,
    })),
  );
}

const printable = (maxLength: number) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength,
  });

const anyJson = fc.jsonValue({ maxDepth: 3 });

function hostileValue(pools: Pools): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom<unknown>(null, true, false, 0, -1, '', [], {}),
    fc.constantFrom(...NASTY_STRINGS),
    fc.constantFrom(...NASTY_NUMBERS),
    fc.constantFrom(...pools.words, ...pools.ids),
    fc.string({ unit: 'binary', maxLength: 40 }),
    anyJson,
  );
}

/** A value for `schema`: mostly of its type (valid or at its edges), sometimes anything at all. */
function valueFor(schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: typedValue(schema, pools) },
    { weight: 1, arbitrary: hostileValue(pools) },
  );
}

function typedValue(schema: JsonSchema, pools: Pools): fc.Arbitrary<unknown> {
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices && choices.length > 0) return fc.oneof(...choices.map((choice) => typedValue(choice, pools)));
  if (schema.enum && schema.enum.length > 0) return fc.constantFrom(...schema.enum);
  const type = typeof schema.type === 'string' ? schema.type : schema.type?.[0];
  switch (type) {
    case 'string':
      if (schema.format === 'date-time')
        return fc.oneof(
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          fc.constantFrom(...NASTY_STRINGS.filter((text) => /^[+0-9]/.test(text))),
        );
      return fc.oneof(
        fc.constantFrom(...pools.words, ...pools.ids),
        fc.string({ maxLength: (schema.maxLength ?? 64) + 2 }),
        fc.constantFrom(...NASTY_STRINGS),
      );
    case 'integer':
    case 'number':
      return fc.oneof(
        fc.integer({ min: -5, max: Math.min(schema.maximum ?? 1_000_000, 2 ** 31) + 5 }),
        fc.constantFrom(...NASTY_NUMBERS),
      );
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(valueFor(schema.items ?? {}, pools), { maxLength: 5 });
    case 'object': {
      const fields = Object.entries(schema.properties ?? {});
      const known = fc.record(
        Object.fromEntries(fields.map(([name, field]) => [name, valueFor(field, pools)])),
        {
          requiredKeys: [],
        },
      );
      return fc
        .tuple(
          known,
          fc.option(fc.tuple(fc.constantFrom('extra', '__proto__', 'isAdmin', 'status'), anyJson)),
        )
        .map(([object, extra]) => (extra ? { ...object, [extra[0]]: extra[1] } : object));
    }
    default:
      return anyJson;
  }
}

function pathFor(route: Route, pools: Pools): fc.Arbitrary<string> {
  const id = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...pools.ids) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(percentEncode) },
    { weight: 1, arbitrary: fc.constantFrom(...NASTY_STRINGS).map(percentEncode) },
    // Sent as they are: encodings that do not decode, traversal, a slash inside an id.
    {
      weight: 1,
      arbitrary: fc.constantFrom('%', '%zz', '%C0%AF', '..', '.', 'a/b', '%2e%2e', '%00', 'x'.repeat(300)),
    },
  );
  if (route.pathParams.length === 0) return fc.constant(route.template);
  return fc
    .array(id, { minLength: route.pathParams.length, maxLength: route.pathParams.length })
    .map((values) =>
      route.pathParams.reduce(
        (path, name, index) => path.replace(`{${name}}`, values[index] ?? ''),
        route.template,
      ),
    );
}

function queryFor(route: Route, pools: Pools): fc.Arbitrary<string> {
  const known = route.query.map(({ name, schema }) =>
    fc.option(
      fc
        .oneof(typedValue(schema, pools), hostileValue(pools))
        .map(
          (value) =>
            `${name}=${percentEncode(typeof value === 'string' ? value : ((JSON.stringify(value) as string | undefined) ?? ''))}`,
        ),
      { freq: 2 },
    ),
  );
  const extra = fc.option(
    fc.oneof(
      fc
        .tuple(printable(12), printable(12))
        .map(([key, value]) => `${percentEncode(key)}=${percentEncode(value)}`),
      fc.constantFrom('limit=1&limit=2', 'a', '&&', '=', '%=%', 'scope[]=all', 'limit=%FF'),
    ),
    { freq: 3 },
  );
  return fc.tuple(fc.tuple(...known), extra).map(([values, more]) => {
    const parts = [...values, more].filter((part): part is string => part !== null);
    return parts.length === 0 ? '' : `?${parts.join('&')}`;
  });
}

function bodyFor(route: Route, pools: Pools): fc.Arbitrary<string | undefined> {
  const shaped = route.body ? valueFor(route.body, pools) : anyJson;
  return fc.oneof(
    { weight: 6, arbitrary: shaped.map((value) => JSON.stringify(value) as string | undefined) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: anyJson.map((value) => JSON.stringify(value)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
    { weight: 1, arbitrary: fc.constantFrom(...RAW_BODIES) },
  );
}

function headersFor(route: Route, pools: Pools, hasBody: boolean): fc.Arbitrary<Record<string, string>> {
  const authorization = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...pools.tokens).map((token) => `Bearer ${token}`) },
    { weight: 1, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        `Bearer ${pools.revokedToken}`,
        'Bearer',
        'Bearer ',
        'bearer x',
        'Basic dXNlcjpwYXNz',
        'Bearer a b',
        `Bearer ${'A'.repeat(201)}`,
        `Bearer ${'A'.repeat(8000)}`,
        `BEARER ${pools.tokens[0] ?? ''}`,
        `Bearer  ${pools.tokens[0] ?? ''}  `,
        `Bearer ${pools.tokens[0] ?? ''}x`,
      ),
    },
    { weight: 1, arbitrary: printable(60).map((text) => `Bearer ${text}`) },
  );
  const contentType = hasBody
    ? fc.oneof(
        { weight: 6, arbitrary: fc.constant('application/json') },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            undefined,
            'application/json; charset=utf-8',
            'application/json; charset=utf-16',
            'APPLICATION/JSON',
            'text/plain',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=x',
            'application/json-patch+json',
            '*/*',
            ';;;',
          ),
        },
      )
    : fc.constantFrom(undefined, undefined, 'application/json', 'text/plain');
  const idempotencyKey = fc.option(
    fc.oneof(fc.uuid(), printable(210), fc.constantFrom('', ' ', 'a b', 'é', 'x'.repeat(201))),
    { freq: 3 },
  );
  const lastEventId =
    route.template === '/v1/events'
      ? fc.option(fc.oneof(fc.nat().map(String), printable(20), fc.constantFrom('-1', '1e3', '9'.repeat(20))))
      : fc.constant(null);
  return fc.record({ authorization, contentType, idempotencyKey, lastEventId }).map((picked) => {
    const headers: Record<string, string> = {};
    if (picked.authorization !== undefined) headers.authorization = picked.authorization;
    if (picked.contentType !== undefined) headers['content-type'] = picked.contentType;
    if (picked.idempotencyKey !== null) headers['idempotency-key'] = picked.idempotencyKey;
    if (picked.lastEventId !== null) headers['last-event-id'] = picked.lastEventId;
    return headers;
  });
}

/** One hostile request to one of `routes`. */
export function hostileCase(routes: readonly Route[], pools: Pools): fc.Arbitrary<HostileCase> {
  return fc.constantFrom(...routes).chain((route) =>
    fc
      .record({
        method: fc.oneof(
          { weight: 12, arbitrary: fc.constant(route.method) },
          { weight: 1, arbitrary: fc.constantFrom('PUT', 'PATCH', 'DELETE') },
        ),
        path: pathFor(route, pools),
        query: queryFor(route, pools),
        body: bodyFor(route, pools),
      })
      .chain(({ method, path, query, body }) => {
        // A GET with a body is legal HTTP and some proxies pass it on: now and then, send one.
        const sent =
          method === 'GET'
            ? fc.oneof(
                { weight: 9, arbitrary: fc.constant(undefined) },
                { weight: 1, arbitrary: fc.constant(body) },
              )
            : fc.constant(body);
        return fc.tuple(sent, headersFor(route, pools, body !== undefined)).map(([payload, headers]) => ({
          route: `${route.method} ${route.template}`,
          method,
          path: `${path}${query}`,
          headers,
          ...(payload === undefined ? {} : { body: payload }),
        }));
      }),
  );
}
