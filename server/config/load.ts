import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { ApprovalRule, Approvers, Policy, PolicyUser, Resource, Role } from '../policy/types.js';
import { policyFileSchema, type PolicyFile, type SecretReference } from './schema.js';

export interface PolicyProblem {
  /** Dotted path of the bad field, e.g. `resources.prod-db.roles.read.duration.min`. */
  readonly path: string;
  readonly line: number | null;
  readonly message: string;
}

/** A policy the service refuses to start on: names the file, every bad field, and what was expected. */
export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly PolicyProblem[],
  ) {
    const lines = problems.map(
      (problem) =>
        `  ${problem.line === null ? '' : `line ${problem.line}, `}${problem.path || '(top level)'}: ${problem.message}`,
    );
    super(`Policy file ${file} is invalid:\n${lines.join('\n')}`);
    this.name = 'PolicyError';
  }
}

export interface PolicySource {
  /** Shown in errors; secret files are resolved relative to its folder. */
  readonly file: string;
  readonly text: string;
  readonly env: NodeJS.ProcessEnv;
  /** Lets the demo fill in fields (its passwords) before validation. */
  readonly prepare?: (raw: unknown) => unknown;
}

export function loadPolicyFile(file: string, env: NodeJS.ProcessEnv): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new PolicyError(file, [
      { path: '', line: null, message: `cannot read the file (${describeIoError(error)})` },
    ]);
  }
  return parsePolicy({ file, text, env });
}

export function parsePolicy(source: PolicySource): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(source.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(
      source.file,
      document.errors.map((error) => ({
        path: '',
        line: error.linePos?.[0].line ?? null,
        message: `not valid YAML: ${error.message.split('\n')[0] ?? ''}`,
      })),
    );
  }
  const raw: unknown = document.toJS();
  const parsed = policyFileSchema.safeParse(source.prepare ? source.prepare(raw) : raw);
  const locate = (path: readonly PropertyKey[]): number | null => lineOf(document, lineCounter, path);
  if (!parsed.success) {
    throw new PolicyError(
      source.file,
      parsed.error.issues.map((issue) => toProblem(issue, locate)),
    );
  }
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const policy = normalise(parsed.data, source, problems);
  if (problems.length > 0) {
    throw new PolicyError(
      source.file,
      problems.map((problem) => ({
        path: problem.path.map(String).join('.'),
        line: locate(problem.path),
        message: problem.message,
      })),
    );
  }
  return policy;
}

function toProblem(
  issue: z.core.$ZodIssue,
  locate: (path: readonly PropertyKey[]) => number | null,
): PolicyProblem {
  let message = issue.message;
  if (issue.code === 'unrecognized_keys')
    message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined'))
    message = `missing; ${issue.message}`;
  return { path: issue.path.map(String).join('.'), line: locate(issue.path), message };
}

/** The line of the deepest node of `path` that exists in the document. */
function lineOf(document: Document, lineCounter: LineCounter, path: readonly PropertyKey[]): number | null {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = document.getIn(path.slice(0, depth), true);
    if (node && typeof node === 'object' && 'range' in node && Array.isArray(node.range)) {
      const range: unknown[] = node.range;
      const offset = range[0];
      if (typeof offset === 'number') return lineCounter.linePos(offset).line;
    }
  }
  return null;
}

function normalise(
  file: PolicyFile,
  source: PolicySource,
  problems: { path: PropertyKey[]; message: string }[],
): Policy {
  const groupNames = new Set(Object.keys(file.groups));
  const userNames = new Set(Object.keys(file.users));
  const checkGroups = (groups: readonly string[], path: PropertyKey[]): void => {
    groups.forEach((group, index) => {
      if (!groupNames.has(group))
        problems.push({
          path: [...path, index],
          message: `unknown group "${group}"; declare it under groups`,
        });
    });
  };
  const checkApprovers = (approvers: Approvers, path: PropertyKey[]): void => {
    checkGroups(approvers.groups, [...path, 'groups']);
    approvers.users.forEach((user, index) => {
      if (!userNames.has(user))
        problems.push({
          path: [...path, 'users', index],
          message: `unknown user "${user}"; declare it under users`,
        });
    });
  };
  const membersOf = (approvers: Approvers): Set<string> => {
    const members = new Set(approvers.users);
    for (const [name, user] of Object.entries(file.users)) {
      if (user.groups.some((group) => approvers.groups.includes(group))) members.add(name);
    }
    return members;
  };

  const users = new Map<string, PolicyUser>();
  for (const [name, user] of Object.entries(file.users)) {
    checkGroups(user.groups, ['users', name, 'groups']);
    const totpSecret = user.totpSecret
      ? readTotpSecret(user.totpSecret, source, ['users', name, 'totpSecret'], problems)
      : null;
    users.set(name, {
      id: name,
      displayName: user.displayName,
      passwordHash: user.passwordHash,
      totpSecret,
      groups: user.groups,
      isAdmin: user.admin,
    });
  }

  const resources = new Map<string, Resource>();
  for (const [resourceId, resource] of Object.entries(file.resources)) {
    const roles = new Map<string, Role>();
    for (const [roleName, role] of Object.entries(resource.roles)) {
      const path = ['resources', resourceId, 'roles', roleName];
      checkGroups(role.requesters, [...path, 'requesters']);
      const { min, default: preset, max } = role.duration;
      if (min < 1)
        problems.push({ path: [...path, 'duration', 'min'], message: 'expected at least 1 second' });
      if (preset < min || preset > max)
        problems.push({
          path: [...path, 'duration', 'default'],
          message: 'expected a default between min and max',
        });
      if (max < min)
        problems.push({ path: [...path, 'duration', 'max'], message: 'expected max to be at least min' });
      if (role.pendingTimeout < 1)
        problems.push({ path: [...path, 'pendingTimeout'], message: 'expected at least 1 second' });
      let ticketPattern: Role['ticketPattern'] = null;
      if (role.ticketPattern !== undefined) {
        try {
          ticketPattern = {
            source: role.ticketPattern,
            regex: new RegExp(`^(?:${role.ticketPattern})$`, 'u'),
          };
        } catch (error) {
          problems.push({
            path: [...path, 'ticketPattern'],
            message: `expected a regular expression (${error instanceof Error ? error.message : 'invalid'})`,
          });
        }
      }
      const approval = toApprovalRule(role.approval);
      approval.stages.forEach((stage, index) => {
        const stagePath =
          approval.mode === 'chain' ? [...path, 'approval', 'stages', index] : [...path, 'approval'];
        checkApprovers(stage.approvers, [...stagePath, 'approvers']);
        if (stage.escalation) checkApprovers(stage.escalation.to, [...stagePath, 'escalateTo']);
        const available = membersOf(stage.approvers).size;
        if (stage.count > available) {
          problems.push({
            path: [...stagePath, 'count'],
            message: `expected at most ${available}: only ${available} ${available === 1 ? 'person' : 'people'} can approve this stage`,
          });
        }
      });
      roles.set(roleName, {
        name: roleName,
        description: role.description,
        requesterGroups: role.requesters,
        minDurationSeconds: min,
        defaultDurationSeconds: preset,
        maxDurationSeconds: max,
        reasonRequired: role.reasonRequired,
        ticketPattern,
        approval,
        seats: role.seats ?? null,
        pendingTimeoutSeconds: role.pendingTimeout,
        allowSelfApproval: role.allowSelfApproval,
      });
    }
    resources.set(resourceId, {
      id: resourceId,
      name: resource.name,
      kind: resource.kind,
      description: resource.description,
      roles,
    });
  }

  const { service } = file;
  service.reminders.forEach((lead, index) => {
    if (lead < 1)
      problems.push({ path: ['service', 'reminders', index], message: 'expected at least 1 second' });
  });
  for (const key of ['perAccount', 'perAddress'] as const) {
    if (service.loginLimits[key].window < 1)
      problems.push({
        path: ['service', 'loginLimits', key, 'window'],
        message: 'expected at least 1 second',
      });
  }
  if (service.tokenTtl < 60)
    problems.push({ path: ['service', 'tokenTtl'], message: 'expected at least 1 minute' });
  if (service.signingKeyRotation < 3600)
    problems.push({ path: ['service', 'signingKeyRotation'], message: 'expected at least 1 hour' });

  return {
    service: {
      publicUrl: service.publicUrl?.replace(/\/+$/, '') ?? null,
      tokenTtlSeconds: service.tokenTtl,
      reminderLeadsSeconds: [...new Set(service.reminders)].sort((a, b) => b - a),
      signingKeyRotationSeconds: service.signingKeyRotation,
      loginLimits: {
        perAccount: {
          attempts: service.loginLimits.perAccount.attempts,
          windowSeconds: service.loginLimits.perAccount.window,
        },
        perAddress: {
          attempts: service.loginLimits.perAddress.attempts,
          windowSeconds: service.loginLimits.perAddress.window,
        },
      },
    },
    groups: new Map(Object.entries(file.groups)),
    users,
    resources,
  };
}

type RoleApproval = PolicyFile['resources'][string]['roles'][string]['approval'];

function toApprovalRule(approval: RoleApproval): ApprovalRule {
  if (approval === 'auto' || approval.mode === 'auto') return { mode: 'auto', stages: [] };
  switch (approval.mode) {
    case 'any':
      return {
        mode: 'any',
        stages: [{ name: 'approval', approvers: approval.approvers, count: 1, escalation: null }],
      };
    case 'quorum':
      return {
        mode: 'quorum',
        stages: [
          { name: 'approval', approvers: approval.approvers, count: approval.count, escalation: null },
        ],
      };
    case 'chain':
      return {
        mode: 'chain',
        stages: approval.stages.map((stage) => ({
          name: stage.name,
          approvers: stage.approvers,
          count: stage.count,
          escalation:
            stage.escalateAfter !== undefined && stage.escalateTo !== undefined
              ? { afterSeconds: stage.escalateAfter, to: stage.escalateTo }
              : null,
        })),
      };
  }
}

const BASE32_SECRET = /^[A-Z2-7]{16,}=*$/;

function readTotpSecret(
  reference: SecretReference,
  source: PolicySource,
  path: PropertyKey[],
  problems: { path: PropertyKey[]; message: string }[],
): string | null {
  let value: string | undefined;
  if ('env' in reference) {
    value = source.env[reference.env];
    if (value === undefined) {
      problems.push({ path: [...path, 'env'], message: `environment variable ${reference.env} is not set` });
      return null;
    }
  } else {
    const file = resolve(source.file, '..', reference.file);
    try {
      value = readFileSync(file, 'utf8');
    } catch (error) {
      problems.push({ path: [...path, 'file'], message: `cannot read ${file} (${describeIoError(error)})` });
      return null;
    }
  }
  const secret = value.replace(/\s+/g, '').toUpperCase();
  if (!BASE32_SECRET.test(secret)) {
    problems.push({ path, message: 'expected a base32 TOTP secret of at least 16 characters' });
    return null;
  }
  return secret;
}

function describeIoError(error: unknown): string {
  return error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
}
