import { z } from 'zod';
import {
  authMethodsView,
  credentialView,
  grantView,
  listOf,
  requestPreviewView,
  requestView,
  resourceView,
  userView,
  type AuthMethodsView,
  type GrantView,
  type RequestPreviewView,
  type RequestView,
  type ResourceView,
  type UserView,
} from './schemas.js';
import { seatPoolReports, type SeatPoolReportsView } from './admin-schemas.js';
import type { ClockOffsetEstimator } from './clock-offset.js';
import {
  recommendations,
  roleInsights,
  seatSeries,
  type RecommendationsView,
  type RoleInsightsView,
  type SeatSeriesView,
} from './insights-schemas.js';
import type { Clock } from './clock.js';
import { ServiceError } from './errors.js';

export interface GrantClientOptions {
  /** The service's base URL, e.g. http://127.0.0.1:8787. */
  readonly baseUrl: () => string | null;
  readonly token: () => string | null;
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly offset: ClockOffsetEstimator;
  readonly retry?: { readonly attempts: number; readonly baseDelayMs: number; readonly maxDelayMs: number };
  /** Sent as User-Agent: the service lists a person's sessions by the device that signed in. */
  readonly userAgent?: string;
  readonly random?: () => number;
}

/** The body of POST /v1/requests (and of its preview). */
export interface RequestInput {
  readonly resourceId: string;
  readonly role: string;
  readonly durationSeconds: number;
  readonly reason: string;
  readonly ticket?: string;
}

const loginAnswer = z.object({ token: z.string(), expiresAt: z.string(), user: userView });
const errorAnswer = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

interface Call<T> {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly idempotencyKey?: string;
  /** Safe to send again after a transient failure: reads, and writes that carry an idempotency key. */
  readonly retry: boolean;
  readonly authenticated: boolean;
  readonly parse: (status: number, json: unknown) => T;
}

/**
 * The grant API as the desktop uses it. Every answer's Date header feeds the clock-offset estimate.
 * Transient failures (no connection, 502, 503, 504) are retried with exponential backoff and jitter when
 * the call is safe to repeat; a 4xx is never retried. Every failure is a ServiceError with a sentence.
 */
export class GrantClient {
  private readonly retry: NonNullable<GrantClientOptions['retry']>;
  private readonly random: () => number;

  constructor(private readonly options: GrantClientOptions) {
    this.retry = options.retry ?? { attempts: 3, baseDelayMs: 300, maxDelayMs: 3000 };
    this.random = options.random ?? Math.random;
  }

  /** How people sign in here (no token needed). */
  authMethods(): Promise<AuthMethodsView> {
    return this.send({
      method: 'GET',
      path: '/v1/auth/methods',
      retry: true,
      authenticated: false,
      parse: (_status, json) => authMethodsView.parse(json),
    });
  }

  login(
    username: string,
    password: string,
    otp?: string,
  ): Promise<{ token: string; expiresAt: string; user: UserView }> {
    return this.send({
      method: 'POST',
      path: '/v1/auth/login',
      body: { username, password, ...(otp === undefined ? {} : { otp }) },
      retry: false,
      authenticated: false,
      parse: (_status, json) => loginAnswer.parse(json),
    });
  }

  logout(): Promise<null> {
    return this.send({
      method: 'POST',
      path: '/v1/auth/logout',
      retry: false,
      authenticated: true,
      parse: () => null,
    });
  }

  me(): Promise<UserView> {
    return this.get('/v1/me', userView);
  }

  async resources(): Promise<ResourceView[]> {
    return (await this.get('/v1/resources', listOf(resourceView))).items;
  }

  myRequests(): Promise<RequestView[]> {
    return this.all('/v1/requests?scope=mine', requestView);
  }

  request(requestId: string): Promise<RequestView> {
    return this.get(`/v1/requests/${encodeURIComponent(requestId)}`, requestView);
  }

  approvals(): Promise<RequestView[]> {
    return this.all('/v1/requests?scope=approvable', requestView);
  }

  async grants(status: 'active' | 'ended', limit?: number): Promise<GrantView[]> {
    if (limit !== undefined)
      return (await this.get(`/v1/grants?status=${status}&limit=${limit}`, listOf(grantView))).items;
    return this.all(`/v1/grants?status=${status}`, grantView);
  }

  grant(grantId: string): Promise<GrantView> {
    return this.get(`/v1/grants/${encodeURIComponent(grantId)}`, grantView);
  }

  createRequest(input: RequestInput, idempotencyKey: string): Promise<RequestView> {
    return this.send({
      method: 'POST',
      path: '/v1/requests',
      body: input,
      idempotencyKey,
      retry: true,
      authenticated: true,
      parse: (_status, json) => requestView.parse(json),
    });
  }

  /** What createRequest would do with this input now; changes nothing, so it is safe to repeat. */
  previewRequest(input: RequestInput): Promise<RequestPreviewView> {
    return this.send({
      method: 'POST',
      path: '/v1/requests/preview',
      body: input,
      retry: true,
      authenticated: true,
      parse: (_status, json) => requestPreviewView.parse(json),
    });
  }

  approve(requestId: string, comment?: string): Promise<RequestView> {
    return this.post(
      `/v1/requests/${encodeURIComponent(requestId)}/approve`,
      comment ? { comment } : {},
      requestView,
    );
  }

  deny(requestId: string, comment: string): Promise<RequestView> {
    return this.post(`/v1/requests/${encodeURIComponent(requestId)}/deny`, { comment }, requestView);
  }

  /** An administrator cancelling someone else's request gives a reason; the requester needs none. */
  cancel(requestId: string, reason?: string): Promise<RequestView> {
    const body = reason === undefined ? {} : { reason };
    return this.post(`/v1/requests/${encodeURIComponent(requestId)}/cancel`, body, requestView);
  }

  extend(
    grantId: string,
    durationSeconds: number,
    reason: string,
    idempotencyKey: string,
  ): Promise<{ kind: 'extended'; grant: GrantView } | { kind: 'needs-approval'; request: RequestView }> {
    return this.send({
      method: 'POST',
      path: `/v1/grants/${encodeURIComponent(grantId)}/extend`,
      body: { durationSeconds, reason },
      idempotencyKey,
      retry: true,
      authenticated: true,
      parse: (status, json) =>
        status === 202
          ? { kind: 'needs-approval', request: requestView.parse(json) }
          : { kind: 'extended', grant: grantView.parse(json) },
    });
  }

  relinquish(grantId: string): Promise<GrantView> {
    return this.post(`/v1/grants/${encodeURIComponent(grantId)}/revoke`, {}, grantView);
  }

  credential(grantId: string): Promise<z.output<typeof credentialView>> {
    return this.get(`/v1/grants/${encodeURIComponent(grantId)}/credential`, credentialView);
  }

  /** How each seat pool was used between `from` and `to` (ISO times); administrators only. */
  seatPoolUtilization(from: string, to: string): Promise<SeatPoolReportsView> {
    const query = new URLSearchParams({ from, to });
    return this.get(`/v1/seat-pools/utilization?${query.toString()}`, seatPoolReports);
  }

  /** How each role was asked for and used between `from` and `to` (ISO times); administrators only. */
  roleInsights(from: string, to: string): Promise<RoleInsightsView> {
    const query = new URLSearchParams({ from, to });
    return this.get(`/v1/insights/roles?${query.toString()}`, roleInsights);
  }

  /** What to change in the policy, with the evidence, over `from`–`to`; administrators only. */
  recommendations(from: string, to: string): Promise<RecommendationsView> {
    const query = new URLSearchParams({ from, to });
    return this.get(`/v1/insights/recommendations?${query.toString()}`, recommendations);
  }

  /** Seats in use and requests queued over `from`–`to` for `pool` (resourceId/role); administrators only. */
  seatSeries(pool: string, from: string, to: string): Promise<SeatSeriesView> {
    const query = new URLSearchParams({ pool, from, to });
    return this.get(`/v1/insights/seats?${query.toString()}`, seatSeries);
  }

  /** The event stream's URL and headers, for LiveEvents (which reads the body itself). */
  eventStreamRequest(lastEventId: string | null): { url: string; headers: Record<string, string> } {
    const base = this.requireBaseUrl();
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      authorization: `Bearer ${this.requireToken()}`,
    };
    if (lastEventId !== null) headers['last-event-id'] = lastEventId;
    return { url: `${base}/v1/events`, headers };
  }

  private get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.send({
      method: 'GET',
      path,
      retry: true,
      authenticated: true,
      parse: (_status, json) => schema.parse(json),
    });
  }

  private post<T>(path: string, body: unknown, schema: z.ZodType<T>): Promise<T> {
    return this.send({
      method: 'POST',
      path,
      body,
      retry: false,
      authenticated: true,
      parse: (_status, json) => schema.parse(json),
    });
  }

  /** Every page of a list. */
  private async all<T>(path: string, item: z.ZodType<T>): Promise<T[]> {
    const items: T[] = [];
    const page = z.object({ items: z.array(item), next: z.string().nullable() });
    for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
      const separator = path.includes('?') ? '&' : '?';
      const answer: z.output<typeof page> = await this.get(
        `${path}${separator}limit=200${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        page,
      );
      items.push(...answer.items);
      cursor = answer.next;
    }
    return items;
  }

  private requireBaseUrl(): string {
    const base = this.options.baseUrl();
    if (!base)
      throw new ServiceError(
        'no_service',
        'No Timebox service is configured; set its URL in Settings.',
        null,
        false,
      );
    return base.replace(/\/+$/, '');
  }

  private requireToken(): string {
    const token = this.options.token();
    if (!token) throw new ServiceError('missing_token', 'Sign in to Timebox first.', 401, false);
    return token;
  }

  private async send<T>(call: Call<T>): Promise<T> {
    const base = this.requireBaseUrl();
    const headers: Record<string, string> = { accept: 'application/json' };
    if (call.authenticated) headers.authorization = `Bearer ${this.requireToken()}`;
    if (call.body !== undefined) headers['content-type'] = 'application/json';
    if (call.idempotencyKey) headers['idempotency-key'] = call.idempotencyKey;
    if (this.options.userAgent !== undefined) headers['user-agent'] = this.options.userAgent;
    const attempts = call.retry ? this.retry.attempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(base, call, headers);
      } catch (error) {
        if (!(error instanceof ServiceError) || !error.retryable || attempt >= attempts) throw error;
        await this.pause(attempt);
      }
    }
  }

  private async once<T>(base: string, call: Call<T>, headers: Record<string, string>): Promise<T> {
    const sentAt = this.options.clock.now();
    let response: Response;
    try {
      response = await this.options.fetch(`${base}${call.path}`, {
        method: call.method,
        headers,
        ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
      });
    } catch (error) {
      throw new ServiceError(
        'service_unreachable',
        `Can't reach the Timebox service at ${base}${error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''}. Check your network; Timebox keeps trying.`,
        null,
        true,
      );
    }
    this.options.offset.observe(sentAt, this.options.clock.now(), response.headers);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      // The answer broke off (connection reset mid-body): as transient as a refused connection.
      throw new ServiceError(
        'service_unreachable',
        `The connection to the Timebox service at ${base} broke off${error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''}. Check your network; Timebox keeps trying.`,
        null,
        true,
      );
    }
    let json: unknown = null;
    if (text !== '') {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (response.ok) {
      try {
        return call.parse(response.status, json);
      } catch {
        throw new ServiceError(
          'bad_response',
          `The service at ${base} answered in a form Timebox does not understand; is it a Timebox service?`,
          response.status,
          false,
        );
      }
    }
    const problem = errorAnswer.safeParse(json);
    const retryable = TRANSIENT_STATUSES.has(response.status);
    if (problem.success) {
      const { code, message, details } = problem.data.error;
      throw new ServiceError(code, message, response.status, retryable, details);
    }
    throw new ServiceError(
      retryable ? 'service_unavailable' : 'service_error',
      retryable
        ? `The Timebox service is not answering right now (HTTP ${response.status}); Timebox keeps trying.`
        : `The Timebox service failed (HTTP ${response.status}); try again.`,
      response.status,
      retryable,
    );
  }

  /** Exponential backoff with full jitter. */
  private pause(attempt: number): Promise<void> {
    const ceiling = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const delay = Math.round(ceiling * (0.5 + this.random() / 2));
    return new Promise((resolve) => this.options.clock.setTimer(resolve, delay));
  }
}
