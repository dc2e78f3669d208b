import type { z } from 'zod';
import { parseJson } from './core-context.js';
import { grantView, requestView, type GrantView, type RequestView } from '../../api/schemas.js';

/** The live stream's events the desktop acts on, each checked against the grant API's wire shapes. */
export type StreamEvent =
  | { readonly type: 'approval.needed' | 'request.updated'; readonly data: RequestView }
  | { readonly type: 'grant.activated' | 'grant.extended' | 'grant.ended'; readonly data: GrantView };

export type ParsedStreamEvent =
  | { readonly kind: 'event'; readonly event: StreamEvent }
  /** A type we do not act on: grant.expiring (reminders come from our own scheduler), or a newer one. */
  | { readonly kind: 'ignored' }
  | { readonly kind: 'malformed'; readonly problem: string };

/** The data as `schema` reads it, or what is wrong with it. */
function check<T>(data: string, schema: z.ZodType<T>, event: (value: T) => StreamEvent): ParsedStreamEvent {
  const json = parseJson(data);
  if (json === undefined) return { kind: 'malformed', problem: 'the data is not JSON' };
  const parsed = schema.safeParse(json);
  if (parsed.success) return { kind: 'event', event: event(parsed.data) };
  return {
    kind: 'malformed',
    problem: parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || 'data'}: ${issue.message}`)
      .join('; '),
  };
}

/** One event from the stream, as its type and its raw `data` text. Nothing is taken on trust. */
export function parseStreamEvent(type: string, data: string): ParsedStreamEvent {
  switch (type) {
    case 'approval.needed':
    case 'request.updated':
      return check(data, requestView, (request) => ({ type, data: request }));
    case 'grant.activated':
    case 'grant.extended':
    case 'grant.ended':
      return check(data, grantView, (grant) => ({ type, data: grant }));
    default:
      return { kind: 'ignored' };
  }
}
