import { randomUUID } from 'node:crypto';
import { ServiceError } from '../api/errors.js';
import type { GrantClient } from '../api/grant-client.js';
import type { GrantView, RequestView } from '../api/schemas.js';
import { CliError, EXIT } from './exit-codes.js';
import type { Progress } from './progress.js';
import type { StepUp } from './step-up.js';
import { findRole, type Target } from './target.js';
import { isOpen, statusLine, waitForDecision } from './wait.js';

export interface AccessAsk {
  readonly durationSeconds?: number;
  readonly reason?: string;
  readonly ticket?: string;
}

/**
 * Asks for access; the role's default duration when none is given (which needs the catalog). A role that
 * asks for a stronger or fresher sign-in is asked again after `stepUp`, with the same Idempotency-Key.
 */
export async function createRequest(
  client: GrantClient,
  target: Target,
  ask: AccessAsk,
  stepUp: StepUp,
): Promise<RequestView> {
  const durationSeconds =
    ask.durationSeconds ?? findRole(await client.resources(), target).defaultDurationSeconds;
  const input = {
    resourceId: target.resourceId,
    role: target.role,
    durationSeconds,
    reason: ask.reason ?? '',
    ...(ask.ticket === undefined ? {} : { ticket: ask.ticket }),
  };
  // One key per ask: a retry after a lost answer returns the same request instead of a second one.
  const idempotencyKey = randomUUID();
  try {
    return await client.createRequest(input, idempotencyKey);
  } catch (error) {
    if (!(error instanceof ServiceError && error.code === 'step_up_required')) throw error;
    return (await stepUp(error)).createRequest(input, idempotencyKey);
  }
}

/**
 * Waits for the request's decision with a live status line, and answers its grant. Ctrl-C (SIGINT)
 * while waiting cancels the request, or leaves it pending with `keep`, and says which. Denied, lapsed
 * and cancelled requests end the command with their exit codes.
 */
export async function grantOf(
  client: GrantClient,
  request: RequestView,
  progress: Progress,
  keep: boolean,
): Promise<GrantView> {
  const interrupted = new AbortController();
  const onInterrupt = (): void => {
    interrupted.abort();
  };
  process.once('SIGINT', onInterrupt);
  let decided: RequestView | null;
  try {
    decided = isOpen(request)
      ? await waitForDecision(
          client,
          request,
          (update) => {
            progress.update(`${request.id}: ${statusLine(update)}`);
          },
          interrupted.signal,
        )
      : request;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
  if (decided === null) {
    progress.done();
    if (keep)
      throw new CliError(
        EXIT.interrupted,
        `Stopped waiting; request ${request.id} stays open (timebox ls shows it).`,
      );
    await client.cancel(request.id);
    throw new CliError(EXIT.interrupted, `Stopped waiting; request ${request.id} was cancelled.`);
  }
  progress.done();
  return decidedGrant(client, decided);
}

/** The grant of an approved request; the decision as an exit code otherwise. */
async function decidedGrant(client: GrantClient, request: RequestView): Promise<GrantView> {
  const last = request.decisions.at(-1);
  const comment = last?.comment ? `: "${last.comment}"` : '';
  switch (request.status) {
    case 'approved':
      if (request.grantId === null)
        throw new CliError(EXIT.error, `Request ${request.id} was approved but has no grant.`);
      return client.grant(request.grantId);
    case 'denied':
      throw new CliError(
        EXIT.denied,
        `Request ${request.id} was denied by ${last?.approverId ?? 'an approver'}${comment}.`,
      );
    case 'lapsed':
      throw new CliError(EXIT.timedOut, `Request ${request.id} lapsed: nobody decided in time.`);
    case 'cancelled':
      throw new CliError(EXIT.error, `Request ${request.id} was cancelled.`);
    default:
      throw new CliError(EXIT.error, `Request ${request.id} is still ${request.status}.`);
  }
}
