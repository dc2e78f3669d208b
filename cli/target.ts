import { parseDuration } from '../api/duration.js';
import type { ResourceView } from '../api/schemas.js';
import { CliError, EXIT, usageError } from './exit-codes.js';

export interface Target {
  readonly resourceId: string;
  readonly role: string;
}

/** `prod-db/read` → {resourceId, role}; anything else is a usage error that shows the form. */
export function parseTarget(text: string): Target {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(text.trim());
  if (!match?.[1] || !match[2])
    throw usageError(
      `"${text}" is not a resource and role: write it as <resource>/<role>, e.g. prod-db/read.`,
    );
  return { resourceId: match[1], role: match[2] };
}

/** A duration flag ("1h", "30m", "90s", "3600"): whole seconds, or a usage error. */
export function parseDurationOption(text: string, flag: string): number {
  const seconds = parseDuration(/^\d+$/.test(text.trim()) ? Number(text.trim()) : text);
  if (seconds === null || seconds <= 0)
    throw usageError(`${flag} "${text}" is not a duration: write it as 90s, 15m, 1h30m or 2d.`);
  return seconds;
}

/** The role `target` names in the catalog, or a sentence saying what is there instead. */
export function findRole(resources: readonly ResourceView[], target: Target): ResourceView['roles'][number] {
  const resource = resources.find((candidate) => candidate.id === target.resourceId);
  if (!resource)
    throw new CliError(
      EXIT.error,
      `There is no resource "${target.resourceId}" you can see; timebox resources lists them.`,
    );
  const role = resource.roles.find((candidate) => candidate.name === target.role);
  if (!role)
    throw new CliError(
      EXIT.error,
      `${resource.id} has no role "${target.role}"; its roles are ${resource.roles.map((r) => r.name).join(', ')}.`,
    );
  return role;
}
