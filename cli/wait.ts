import type { GrantClient } from '../api/grant-client.js';
import type { RequestView } from '../api/schemas.js';

/** How often a waiting command asks the service about its request. */
export const POLL_INTERVAL_MS = 1000;

const OPEN = new Set<RequestView['status']>(['pending', 'queued']);
export const isOpen = (request: RequestView): boolean => OPEN.has(request.status);

/**
 * Asks about the request until it is decided (approved, denied, cancelled, lapsed), telling `onUpdate`
 * each time its status line changes. Stops early, answering null, when `signal` aborts (Ctrl-C).
 */
export async function waitForDecision(
  client: GrantClient,
  request: RequestView,
  onUpdate: (request: RequestView) => void,
  signal: AbortSignal,
): Promise<RequestView | null> {
  let current = request;
  onUpdate(current);
  while (isOpen(current)) {
    if (!(await pause(POLL_INTERVAL_MS, signal))) return null;
    const next = await client.request(current.id);
    if (statusLine(next) !== statusLine(current)) onUpdate(next);
    current = next;
  }
  return current;
}

/** One line saying where a request stands. */
export function statusLine(request: RequestView): string {
  switch (request.status) {
    case 'pending':
      return request.stage === null
        ? 'waiting for approval'
        : `waiting for approval: ${request.stage.name}, ${request.stage.approvalsGiven} of ${request.stage.approvalsNeeded}`;
    case 'queued':
      return `waiting for a free seat (number ${request.queuePosition ?? '?'} in the queue)`;
    default:
      return request.status;
  }
}

/** Waits `ms`; false when `signal` aborted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve(true);
    }, ms);
    const aborted = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', aborted, { once: true });
  });
}
