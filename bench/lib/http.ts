import { Pool } from 'undici';

/** A keep-alive client for one service process, with the calls the scenarios make. */
export class BenchClient {
  private readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    connections: number,
  ) {
    this.pool = new Pool(baseUrl, { connections, pipelining: 1 });
  }

  async call(
    method: 'GET' | 'POST',
    path: string,
    token?: string,
    body?: unknown,
    extraHeaders: Readonly<Record<string, string>> = {},
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = { ...extraHeaders };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await this.pool.request({
      method,
      path,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: text ? (JSON.parse(text) as unknown) : null };
  }

  /** A GET whose answer is text, not JSON (/metrics). */
  async text(path: string): Promise<string> {
    const response = await this.pool.request({ method: 'GET', path });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`GET ${path} answered ${response.statusCode}`);
    return text;
  }

  async login(username: string, password: string): Promise<string> {
    const { status, json } = await this.call('POST', '/v1/auth/login', undefined, { username, password });
    if (
      status !== 200 ||
      typeof json !== 'object' ||
      json === null ||
      !('token' in json) ||
      typeof json.token !== 'string'
    ) {
      throw new Error(`login as ${username} answered ${status}`);
    }
    return json.token;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Signs in every bench user, spreading them over the clients (one per service process). */
export function loginAll(
  clients: readonly BenchClient[],
  users: readonly string[],
  password: string,
): Promise<string[]> {
  return Promise.all(
    users.map((user, index) => {
      const client = clients[index % clients.length];
      if (!client) throw new Error('no client to sign in with');
      return client.login(user, password);
    }),
  );
}

/**
 * One lifecycle as a user runs it: a request that the policy approves at once (a sandbox grant of an
 * hour), then its credential, whose token it returns.
 */
export async function requestAndFetch(client: BenchClient, token: string): Promise<string> {
  const created = await client.call('POST', '/v1/requests', token, {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds: 3600,
  });
  const grantId = (created.json as { grantId?: string } | null)?.grantId;
  if (created.status !== 201 || !grantId) throw new Error(`create answered ${created.status}`);
  const credential = await client.call('GET', `/v1/grants/${grantId}/credential`, token);
  const secret = (credential.json as { secret?: { token?: string } } | null)?.secret?.token;
  if (credential.status !== 200 || !secret) throw new Error(`credential answered ${credential.status}`);
  return secret;
}

/** A sandbox grant of an hour for each token's user, and its credential token. */
export async function sandboxTokens(client: BenchClient, tokens: readonly string[]): Promise<string[]> {
  return Promise.all(tokens.map((token) => requestAndFetch(client, token)));
}

/** One introspection as a resource server asks it; anything but an active answer is an error. */
export async function introspectActive(
  client: BenchClient,
  serverToken: string,
  token: string,
): Promise<void> {
  const answer = await client.call('POST', '/v1/credentials/introspect', serverToken, { token });
  if (answer.status !== 200 || (answer.json as { active?: boolean } | null)?.active !== true)
    throw new Error(`introspection answered ${answer.status}`);
}

/** Runs `iteration` from `concurrency` workers for `durationMs` after a warm-up; latencies in ms. */
export async function closedLoop(options: {
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  iteration: (worker: number) => Promise<void>;
}): Promise<{ completed: number; errors: number; latenciesMs: number[]; elapsedMs: number }> {
  const latenciesMs: number[] = [];
  let completed = 0;
  let errors = 0;
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  await Promise.all(
    Array.from({ length: options.concurrency }, async (_, worker) => {
      while (performance.now() < stopAt) {
        const begin = performance.now();
        try {
          await options.iteration(worker);
          if (begin >= measureFrom) {
            completed += 1;
            latenciesMs.push(performance.now() - begin);
          }
        } catch {
          if (begin >= measureFrom) errors += 1;
        }
      }
    }),
  );
  return { completed, errors, latenciesMs, elapsedMs: performance.now() - measureFrom };
}
