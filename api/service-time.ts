/**
 * The service's clock in epoch milliseconds, on every answer (a Timebox extension of the contract). The
 * Date header carries the same instant with one-second resolution and is the fallback for clients.
 */
export const SERVICE_TIME_HEADER = 'x-timebox-time';
