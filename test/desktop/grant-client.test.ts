import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ClockOffsetEstimator } from '../../api/clock-offset.js';
import type { DesktopClock } from '../../main/core/clock.js';
import { ServiceError } from '../../api/errors.js';
import { GrantClient } from '../../api/grant-client.js';
import { SERVICE_TIME_HEADER } from '../../api/service-time.js';
import { grantState, requestView } from './fixtures.js';
import { closedPort, json, localServer, recordingClock, type LocalServer } from './helpers.js';

const GRANT_ID = 'grt_0123456789abcdefghjk';
const REQUEST_ID = 'req_0123456789abcdefghjk';
const withCredential = grantState({ id: GRANT_ID });
/** The grant as the service sends it (the credential fields are the desktop's own). */
const grant = Object.fromEntries(
  Object.entries(withCredential).filter(
    ([key]) => !['credential', 'credentialError', 'credentialKind'].includes(key),
  ),
);
const request = requestView({ id: REQUEST_ID });
const problem = (code: string, message: string, details?: Record<string, unknown>) => ({
  error: { code, message, ...(details ? { details } : {}) },
});

function client(
  baseUrl: string,
  options: { clock?: DesktopClock; fetch?: typeof fetch; token?: string | null } = {},
) {
  const clock = options.clock ?? recordingClock();
  const offset = new ClockOffsetEstimator();
  return {
    clock,
    offset,
    client: new GrantClient({
      baseUrl: () => baseUrl,
      token: () => (options.token === undefined ? 'tok-123' : options.token),
      fetch: options.fetch ?? fetch,
      clock,
      offset,
      random: () => 0.5,
    }),
  };
}

async function failure(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw new Error(`expected a ServiceError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a failure, got an answer');
}

let server: LocalServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

/** Answers with `statuses` in turn (the last one repeats): transient ones with an error body, 2xx with `body`. */
async function scripted(statuses: number[], body: unknown): Promise<LocalServer> {
  server = await localServer((_request, response, index) => {
    const status = statuses[Math.min(index, statuses.length - 1)] ?? 200;
    if (status >= 400)
      json(response, status, problem('service_unavailable', 'The service is restarting; try again.'));
    else json(response, status, body);
  });
  return server;
}

describe('the grant client', () => {
  describe('retries what is safe to repeat', () => {
    it('retries a read on 503 and 504 with growing, jittered backoff, then succeeds', async () => {
      const local = await scripted([503, 504, 200], grant);
      const { client: api, clock } = client(local.url);
      expect(await api.grant(GRANT_ID)).toEqual(grant);
      expect(local.requests.map((seen) => seen.method)).toEqual(['GET', 'GET', 'GET']);
      // 300 ms, then 600 ms ceilings, each scaled by the jitter (0.5 + 0.5 × random).
      expect((clock as ReturnType<typeof recordingClock>).delays).toEqual([225, 450]);
    });

    it('gives up after three attempts and says why, with the service’s words', async () => {
      const local = await scripted([503], grant);
      const error = await failure(client(local.url).client.grant(GRANT_ID));
      expect(local.requests).toHaveLength(3);
      expect(error).toMatchObject({
        code: 'service_unavailable',
        message: 'The service is restarting; try again.',
        status: 503,
        retryable: true,
      });
    });

    it('retries a request for access with the same Idempotency-Key each time', async () => {
      const local = await scripted([503, 504, 201], request);
      const created = await client(local.url).client.createRequest(
        { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'incident' },
        'key-1',
      );
      expect(created).toEqual(request);
      expect(local.requests.map((seen) => seen.headers['idempotency-key'])).toEqual([
        'key-1',
        'key-1',
        'key-1',
      ]);
      expect(local.requests.map((seen) => seen.body)).toEqual(
        Array(3).fill(
          JSON.stringify({ resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: 'incident' }),
        ),
      );
    });

    it('retries an extension with the same Idempotency-Key, and tells 200 from 202', async () => {
      const local = await scripted([503, 202], request);
      const outcome = await client(local.url).client.extend(GRANT_ID, 600, 'more', 'key-2');
      expect(outcome).toEqual({ kind: 'needs-approval', request });
      expect(local.requests.map((seen) => [seen.url, seen.headers['idempotency-key']])).toEqual([
        [`/v1/grants/${GRANT_ID}/extend`, 'key-2'],
        [`/v1/grants/${GRANT_ID}/extend`, 'key-2'],
      ]);
      await local.close();
      const extended = await scripted([200], grant);
      expect(await client(extended.url).client.extend(GRANT_ID, 600, 'more', 'key-3')).toEqual({
        kind: 'extended',
        grant,
      });
    });

    it('retries a refused connection, and reaches the service once it listens again', async () => {
      const port = await closedPort();
      const seen: string[] = [];
      const listener = createServer((incoming, response) => {
        seen.push(incoming.url ?? '');
        json(response, 200, grant);
      });
      // The service comes back during the first backoff pause.
      const clock: DesktopClock = {
        now: () => 0,
        monotonic: () => 0,
        setTimer(callback) {
          listener.listen(port, '127.0.0.1', callback);
          return () => undefined;
        },
      };
      try {
        expect(await client(`http://127.0.0.1:${port}`, { clock }).client.grant(GRANT_ID)).toEqual(grant);
        expect(seen).toEqual([`/v1/grants/${GRANT_ID}`]);
      } finally {
        listener.closeAllConnections();
        await new Promise((resolve) => listener.close(resolve));
      }
    });

    it('retries a read whose answer broke off mid-body', async () => {
      server = await localServer((_request, response, index) => {
        if (index === 0) {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
          response.write('{"id":"grt_');
          setImmediate(() => response.destroy());
        } else json(response, 200, grant);
      });
      expect(await client(server.url).client.grant(GRANT_ID)).toEqual(grant);
      expect(server.requests).toHaveLength(2);
    });
  });

  describe('never retries what must not be repeated', () => {
    it.each([
      [400, 'invalid_request', 'Duration must be at most 4 hours.'],
      [401, 'token_expired', 'Your session has expired; sign in again.'],
      [403, 'forbidden', 'You may not request this role.'],
      [404, 'not_found', 'No such grant.'],
      [409, 'conflict', 'The request was already decided.'],
      [429, 'rate_limited', 'Too many attempts; wait a minute.'],
    ])('a %i is final: one attempt, and the service’s code and message', async (status, code, message) => {
      server = await localServer((_request, response) => {
        json(response, status, problem(code, message, { field: 'durationSeconds' }));
      });
      const error = await failure(
        client(server.url).client.createRequest(
          { resourceId: 'prod-db', role: 'read', durationSeconds: 3600, reason: '' },
          'key',
        ),
      );
      expect(server.requests).toHaveLength(1);
      expect(error).toMatchObject({
        code,
        message,
        status,
        retryable: false,
        details: { field: 'durationSeconds' },
      });
    });

    it.each([
      ['approve', (api: GrantClient) => api.approve(REQUEST_ID, 'ok')],
      ['deny', (api: GrantClient) => api.deny(REQUEST_ID, 'no')],
      ['cancel', (api: GrantClient) => api.cancel(REQUEST_ID)],
      ['relinquish', (api: GrantClient) => api.relinquish(GRANT_ID)],
      ['login', (api: GrantClient) => api.login('alice', 'demo')],
      ['logout', (api: GrantClient) => api.logout()],
    ])('%s (a POST without an Idempotency-Key) is sent once, even on a 503', async (_name, call) => {
      const local = await scripted([503, 200], request);
      const error = await failure(call(client(local.url).client));
      expect(local.requests).toHaveLength(1);
      expect(local.requests[0]?.headers['idempotency-key']).toBeUndefined();
      expect(error).toMatchObject({ status: 503, retryable: true });
    });

    it('does not retry a non-idempotent POST whose connection was refused', async () => {
      const port = await closedPort();
      let attempts = 0;
      const counting: typeof fetch = (input, init) => {
        attempts += 1;
        return fetch(input, init);
      };
      const error = await failure(
        client(`http://127.0.0.1:${port}`, { fetch: counting }).client.approve(REQUEST_ID),
      );
      expect(attempts).toBe(1);
      expect(error.code).toBe('service_unreachable');
    });
  });

  describe('turns failures into sentences', () => {
    it('names the URL of a service it cannot reach, after trying three times', async () => {
      const port = await closedPort();
      let attempts = 0;
      const counting: typeof fetch = (input, init) => {
        attempts += 1;
        return fetch(input, init);
      };
      const error = await failure(client(`http://127.0.0.1:${port}`, { fetch: counting }).client.resources());
      expect(attempts).toBe(3);
      expect(error).toMatchObject({ code: 'service_unreachable', status: null, retryable: true });
      expect(error.message).toMatch(
        new RegExp(
          `^Can't reach the Timebox service at http://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\)\\. Check your network`,
        ),
      );
    });

    it('an error without our body becomes a sentence with the status, and a 500 is not retried', async () => {
      server = await localServer((_request, response) => {
        response.writeHead(500, { 'content-type': 'text/html' });
        response.end('<h1>Internal Server Error</h1>');
      });
      const error = await failure(client(server.url).client.grant(GRANT_ID));
      expect(server.requests).toHaveLength(1);
      expect(error).toMatchObject({
        code: 'service_error',
        message: 'The Timebox service failed (HTTP 500); try again.',
        status: 500,
        retryable: false,
      });
    });

    it('an answer of the wrong shape is not taken for data', async () => {
      server = await localServer((_request, response) => {
        json(response, 200, { hello: 'I am not Timebox' });
      });
      const error = await failure(client(server.url).client.grant(GRANT_ID));
      expect(error.code).toBe('bad_response');
      expect(error.message).toContain(server.url);
    });

    it('refuses to call without a service URL or a token, before anything is sent', async () => {
      const local = await scripted([200], grant);
      const noToken = await failure(client(local.url, { token: null }).client.grant(GRANT_ID));
      expect(noToken).toMatchObject({ code: 'missing_token', status: 401 });
      const noService = new GrantClient({
        baseUrl: () => null,
        token: () => 'tok',
        fetch,
        clock: recordingClock(),
        offset: new ClockOffsetEstimator(),
      });
      await expect(noService.grant(GRANT_ID)).rejects.toMatchObject({ code: 'no_service' });
      expect(local.requests).toHaveLength(0);
    });
  });

  it('sends the token, reads every page of a list, and measures the clock offset from each answer', async () => {
    const serviceTime = Date.parse('2030-01-07T09:01:30.000Z');
    const [first, second] = [requestView(), requestView()];
    server = await localServer((seen, response) => {
      const headers = { [SERVICE_TIME_HEADER]: String(serviceTime) };
      if (seen.url.includes('cursor=page2')) json(response, 200, { items: [second], next: null }, headers);
      else json(response, 200, { items: [first], next: 'page2' }, headers);
    });
    const { client: api, offset } = client(server.url);
    expect(await api.myRequests()).toEqual([first, second]);
    expect(server.requests.map((seen) => seen.url)).toEqual([
      '/v1/requests?scope=mine&limit=200',
      '/v1/requests?scope=mine&limit=200&cursor=page2',
    ]);
    expect(server.requests.every((seen) => seen.headers.authorization === 'Bearer tok-123')).toBe(true);
    // The recording clock reads 09:00:00 throughout: the service is 90 s ahead.
    expect(offset.offsetMs).toBe(90_000);
  });
});
