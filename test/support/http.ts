/** A small client for the grant API over real HTTP. */
export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

export interface CallOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as-is, for malformed bodies. */
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export class Api {
  constructor(readonly baseUrl: string) {}

  async call<T = unknown>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (
      payload !== undefined &&
      !Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')
    ) {
      headers['content-type'] = 'application/json';
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.includes('application/json') ?? false;
    return {
      status: response.status,
      body: (isJson && text ? JSON.parse(text) : text) as T,
      headers: response.headers,
    };
  }

  get<T = unknown>(path: string, token?: string): Promise<ApiResponse<T>> {
    return this.call<T>('GET', path, token === undefined ? {} : { token });
  }

  post<T = unknown>(
    path: string,
    token: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>> {
    return this.call<T>('POST', path, {
      ...(token === undefined ? {} : { token }),
      ...(body === undefined ? {} : { body }),
      ...(headers === undefined ? {} : { headers }),
    });
  }

  /** Signs in and returns the token; fails the test on anything but 200. */
  async login(username: string, password = 'demo'): Promise<string> {
    const response = await this.post<{ token: string }>('/v1/auth/login', undefined, { username, password });
    if (response.status !== 200)
      throw new Error(`login as ${username} answered ${response.status}: ${JSON.stringify(response.body)}`);
    return response.body.token;
  }
}
