import { firstShortfall } from '../../../api/approval-feasibility.js';
import type { ResourceView } from '../../../api/schemas.js';
import { formatDuration } from '../../time/format.js';

/** One role of one resource, as the catalog describes it. */
export type RoleView = ResourceView['roles'][number];

const PRESET_CANDIDATES_SECONDS = [5 * 60, 15 * 60, 30 * 60, 3600, 2 * 3600, 4 * 3600, 8 * 3600];
const MAX_PRESETS = 6;

/**
 * The duration buttons for a role: the usual lengths that its policy allows, plus its default, at most
 * six, dropping those farthest (by ratio) from the default when there are more.
 */
export function durationPresets(
  role: Pick<RoleView, 'minDurationSeconds' | 'maxDurationSeconds' | 'defaultDurationSeconds'>,
): number[] {
  const { minDurationSeconds: min, maxDurationSeconds: max, defaultDurationSeconds: preferred } = role;
  const presets = [...new Set([preferred, ...PRESET_CANDIDATES_SECONDS])].filter(
    (seconds) => seconds >= min && seconds <= max,
  );
  if (presets.length === 0) presets.push(min);
  const distance = (seconds: number): number => Math.abs(Math.log(seconds / preferred));
  while (presets.length > MAX_PRESETS) {
    const farthest = presets.reduce((worst, seconds) =>
      distance(seconds) > distance(worst) ? seconds : worst,
    );
    presets.splice(presets.indexOf(farthest), 1);
  }
  return presets.sort((a, b) => a - b);
}

/** Why a duration cannot be asked for, or null when it can. */
export function durationProblem(seconds: number, min: number, max: number): string | null {
  if (!Number.isFinite(seconds) || seconds <= 0) return 'Enter how long you need it.';
  if (!Number.isInteger(seconds)) return 'Use whole seconds.';
  if (seconds < min || seconds > max)
    return `Choose between ${formatDuration(min)} and ${formatDuration(max)}.`;
  return null;
}

/** The policy's ticket pattern as the service applies it: the whole ticket must match. */
export function ticketMatcher(pattern: string): RegExp | null {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return null; // a pattern this browser cannot read: the service still checks it
  }
}

/** Why a ticket will be refused, or null when it will do. */
export function ticketProblem(ticket: string, pattern: string | null): string | null {
  if (pattern === null) return null;
  const value = ticket.trim();
  if (value === '') return `A ticket is required (format ${pattern}).`;
  const matcher = ticketMatcher(pattern);
  return matcher === null || matcher.test(value) ? null : `That does not match the format ${pattern}.`;
}

function joinWith(items: readonly string[], word: 'or' | 'and'): string {
  if (items.length <= 1) return items[0] ?? 'nobody';
  return `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1) ?? ''}`;
}

/**
 * What will happen when the request is sent, in one sentence: "Granted at once.", "Needs approval from
 * bob.", "2 stages: Team lead (bob), then Security (carol).", "All 2 seats in use: you will be queued
 * (position 3)." People are named by user id, as the service names them; `me` is left out of the
 * approvers when the policy does not let requesters approve themselves.
 */
export function outcomeSentence(
  role: Pick<RoleView, 'approval' | 'seats'>,
  me: string | null,
  asking: 'access' | 'extension' = 'access',
): string {
  const { approval, seats } = role;
  const approversOf = (ids: readonly string[]): string[] =>
    approval.allowSelfApproval ? [...ids] : ids.filter((id) => id !== me);

  // The service refuses a request nobody could finish (409 no_approver_available): say so first.
  const shortfall = firstShortfall(
    approval.stages.map((stage) => ({
      name: stage.name,
      needed: stage.count,
      eligible: approversOf([...new Set([...stage.approvers, ...(stage.escalation?.approvers ?? [])])]),
    })),
  );
  if (approval.mode !== 'auto' && shortfall) {
    const { needed, eligible } = shortfall;
    const which = approval.mode === 'chain' ? `its stage “${shortfall.stage}”` : 'it';
    const stage = approval.stages[shortfall.position];
    const leftOut =
      me !== null && approversOf([me]).length === 0 && stage?.approvers.includes(me) === true
        ? ' (you cannot approve your own request)'
        : '';
    return `Nobody can approve this: ${which} needs ${needed} ${needed === 1 ? 'approval' : 'approvals'} from distinct people and ${eligible} ${eligible === 1 ? 'is' : 'are'} eligible${leftOut}. Ask a Timebox administrator to add approvers.`;
  }

  let decision: string;
  const first = approval.stages[0];
  if (approval.mode === 'auto' || !first)
    decision = asking === 'access' ? 'Granted at once' : 'Extended at once';
  else if (approval.mode === 'chain') {
    const stages = approval.stages.map(
      (stage) => `${stage.name} (${joinWith(approversOf(stage.approvers), 'or')})`,
    );
    decision = `${approval.stages.length} stages: ${stages.join(', then ')}`;
  } else {
    const people = approversOf(first.approvers);
    if (first.count <= 1) decision = `Needs approval from ${joinWith(people, 'or')}`;
    else if (first.count >= people.length)
      decision = `Needs approval from ${people.length === 2 ? 'both ' : 'all of '}${joinWith(people, 'and')}`;
    else decision = `Needs ${first.count} approvals from ${joinWith(people, 'or')}`;
  }

  if (seats === null) return `${decision}.`;
  const free = seats.total - seats.inUse;
  const seatWord = seats.total === 1 ? 'seat' : 'seats';
  if (free > 0) return `${decision} (${free} of ${seats.total} ${seatWord} free).`;
  const queue = `All ${seats.total} ${seatWord} in use: you will be queued (position ${seats.queued + 1})`;
  return approval.mode === 'auto'
    ? `${queue}.`
    : `${decision}; then ${queue.charAt(0).toLowerCase()}${queue.slice(1)}.`;
}
