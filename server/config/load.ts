import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import type { Policy } from '../policy/types.js';
import { buildPolicy, type PolicySecrets } from './build.js';
import { readEmailSecrets, readWebhookSecrets } from './channels.js';
import { checkIdentity } from './identity.js';
import { policyFileSchema, secretReference } from './schema.js';
import {
  describeIoError,
  readPostgresUrl,
  readResourceServerToken,
  readTotpSecret,
  type Path,
  type Problem,
} from './secrets.js';

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

/**
 * Reads a policy in two passes that both always run, so one refusal lists every problem: the schema
 * checks each field where it stands, the reference pass checks what fields say about each other (groups
 * and users that exist, quorums that people can reach, secrets that can be read).
 */
export function parsePolicy(source: PolicySource): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(source.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new PolicyError(
      source.file,
      document.errors.map((error) => ({
        path: '',
        line: lineCounter.linePos(error.pos[0]).line,
        message: `not valid YAML: ${error.message.split('\n')[0] ?? ''}`,
      })),
    );
  }
  const raw: unknown = document.toJS();
  const input = source.prepare ? source.prepare(raw) : raw;
  const parsed = policyFileSchema.safeParse(input);
  const problems = parsed.success ? [] : parsed.error.issues.flatMap(toProblems);
  const secrets = checkReferences(input, source, problems);
  if (!parsed.success || problems.length > 0) {
    const unique = new Map(
      problems.map((problem) => [`${problem.path.join('.')}\n${problem.message}`, problem]),
    );
    throw new PolicyError(
      source.file,
      [...unique.values()].map((problem) => ({
        path: problem.path.map(String).join('.'),
        line: lineOf(document, lineCounter, problem.path),
        message: problem.message,
      })),
    );
  }
  return buildPolicy(parsed.data, secrets);
}

function toProblems(issue: z.core.$ZodIssue): Problem[] {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown field "${key}"` }));
    case 'invalid_key':
      // A map key (an id) that is not a slug: say what an id must look like.
      return [{ path: issue.path, message: issue.issues[0]?.message ?? issue.message }];
    case 'invalid_type':
      return [
        {
          path: issue.path,
          message: issue.input === undefined ? `missing; ${issue.message}` : issue.message,
        },
      ];
    default:
      return [{ path: issue.path, message: issue.message }];
  }
}

/**
 * The line to show for `path`: the line of its key in a mapping (a block value starts below it), or
 * of the item in a list; for a field that is missing, the line of the nearest part that exists.
 */
function lineOf(document: Document, lineCounter: LineCounter, path: Path): number | null {
  const lineAt = (range: unknown): number | null =>
    Array.isArray(range) && typeof range[0] === 'number' ? lineCounter.linePos(range[0]).line : null;
  for (let depth = path.length; depth > 0; depth--) {
    const parent: unknown = document.getIn(path.slice(0, depth - 1), true);
    const key = path[depth - 1];
    if (isMap(parent)) {
      const pair = parent.items.find(
        (item) =>
          item.key !== null && typeof item.key === 'object' && 'value' in item.key && item.key.value === key,
      );
      const keyNode: unknown = pair?.key;
      if (keyNode && typeof keyNode === 'object' && 'range' in keyNode) return lineAt(keyNode.range);
    } else if (isSeq(parent) && typeof key === 'number') {
      const item: unknown = parent.items[key];
      if (item && typeof item === 'object' && 'range' in item) return lineAt(item.range);
    }
  }
  const root: unknown = document.contents;
  return root && typeof root === 'object' && 'range' in root ? lineAt(root.range) : null;
}

// The reference pass reads the raw document, whatever the schema thought of it: these read what is
// there and ignore what is malformed (the schema reports that).
const entriesOf = (value: unknown): [string, unknown][] =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];
const field = (value: unknown, name: string): unknown =>
  value !== null && typeof value === 'object' && name in value
    ? (value as Record<string, unknown>)[name]
    : undefined;
const stringsOf = (value: unknown): [number, string][] =>
  Array.isArray(value)
    ? value.flatMap((item: unknown, index) =>
        typeof item === 'string' ? [[index, item] as [number, string]] : [],
      )
    : [];

/** Checks what fields say about each other, and reads the secrets the policy names. */
function checkReferences(input: unknown, source: PolicySource, problems: Problem[]): PolicySecrets {
  const groups = new Set(entriesOf(field(input, 'groups')).map(([name]) => name));
  const users = entriesOf(field(input, 'users'));
  const userNames = new Set(users.map(([name]) => name));
  const checkGroups = (value: unknown, path: Path): void => {
    for (const [index, group] of stringsOf(value)) {
      if (!groups.has(group))
        problems.push({
          path: [...path, index],
          message: `unknown group "${group}"; declare it under groups`,
        });
    }
  };
  /** Reports unknown groups and users; true when every one named exists. */
  const checkApprovers = (approvers: unknown, path: Path): boolean => {
    const before = problems.length;
    checkGroups(field(approvers, 'groups'), [...path, 'groups']);
    for (const [index, user] of stringsOf(field(approvers, 'users'))) {
      if (!userNames.has(user)) {
        problems.push({
          path: [...path, 'users', index],
          message: `unknown user "${user}"; declare it under users`,
        });
      }
    }
    return problems.length === before;
  };
  const peopleWhoCanApprove = (approvers: unknown): number => {
    const named = new Set(
      stringsOf(field(approvers, 'users'))
        .map(([, user]) => user)
        .filter((user) => userNames.has(user)),
    );
    const approverGroups = new Set(stringsOf(field(approvers, 'groups')).map(([, group]) => group));
    for (const [name, user] of users) {
      if (stringsOf(field(user, 'groups')).some(([, group]) => approverGroups.has(group))) named.add(name);
    }
    return named.size;
  };
  const checkCount = (count: unknown, approvers: unknown, path: Path): void => {
    const available = peopleWhoCanApprove(approvers);
    if (typeof count === 'number' && count > available) {
      problems.push({
        path,
        message: `expected at most ${available}: only ${available} ${available === 1 ? 'person' : 'people'} can approve this stage`,
      });
    }
  };

  const secrets: PolicySecrets = {
    totp: new Map(),
    postgresAdmin: new Map(),
    resourceServerTokens: new Map(),
    webhookSecrets: readWebhookSecrets(field(field(input, 'channels'), 'webhooks'), source, problems),
    email: readEmailSecrets(field(field(input, 'channels'), 'email'), source, problems),
    identity: checkIdentity(field(input, 'identity'), groups, source, problems),
  };
  const adminsNeedTotp = field(field(input, 'service'), 'requireTotpForAdmins') === true;
  for (const [name, user] of users) {
    checkGroups(field(user, 'groups'), ['users', name, 'groups']);
    if (adminsNeedTotp && field(user, 'admin') === true && field(user, 'totpSecret') === undefined) {
      problems.push({
        path: ['users', name, 'totpSecret'],
        message: 'missing; service.requireTotpForAdmins is on, so every admin needs a second factor',
      });
    }
    const reference = secretReference.safeParse(field(user, 'totpSecret'));
    if (reference.success) {
      const secret = readTotpSecret(reference.data, source, ['users', name, 'totpSecret'], problems);
      if (secret !== null) secrets.totp.set(name, secret);
    }
  }
  for (const [resourceId, resource] of entriesOf(field(input, 'resources'))) {
    const admin = secretReference.safeParse(field(field(resource, 'postgres'), 'admin'));
    if (admin.success) {
      const path = ['resources', resourceId, 'postgres', 'admin'];
      const url = readPostgresUrl(admin.data, source, path, problems);
      if (url !== null) secrets.postgresAdmin.set(resourceId, url);
    }
  }
  checkResourceServers(input, source, problems, secrets.resourceServerTokens);
  for (const [resourceId, resource] of entriesOf(field(input, 'resources'))) {
    for (const [roleName, role] of entriesOf(field(resource, 'roles'))) {
      const path = ['resources', resourceId, 'roles', roleName];
      checkGroups(field(role, 'requesters'), [...path, 'requesters']);
      const approval = field(role, 'approval');
      const mode = field(approval, 'mode');
      // A count is only judged against approvers who all exist: a typo is reported once, as a typo.
      if (mode === 'any' || mode === 'quorum') {
        const known = checkApprovers(field(approval, 'approvers'), [...path, 'approval', 'approvers']);
        if (known && mode === 'quorum') {
          checkCount(field(approval, 'count'), field(approval, 'approvers'), [...path, 'approval', 'count']);
        }
      }
      if (mode === 'chain') {
        const stages: unknown = field(approval, 'stages');
        (Array.isArray(stages) ? stages : []).forEach((stage: unknown, index) => {
          const stagePath = [...path, 'approval', 'stages', index];
          const known = checkApprovers(field(stage, 'approvers'), [...stagePath, 'approvers']);
          const escalateTo = field(stage, 'escalateTo');
          if (escalateTo !== undefined) checkApprovers(escalateTo, [...stagePath, 'escalateTo']);
          if (known)
            checkCount(field(stage, 'count') ?? 1, field(stage, 'approvers'), [...stagePath, 'count']);
        });
      }
    }
  }
  return secrets;
}

/**
 * Each resource server serves resources that exist, and has a token of its own: two servers with one
 * token could each read the other's answers.
 */
function checkResourceServers(
  input: unknown,
  source: PolicySource,
  problems: Problem[],
  tokens: Map<string, string>,
): void {
  const resources = new Set(entriesOf(field(input, 'resources')).map(([id]) => id));
  const holders = new Map<string, string>();
  for (const [id, server] of entriesOf(field(input, 'resourceServers'))) {
    const path = ['resourceServers', id];
    for (const [index, resource] of stringsOf(field(server, 'resources'))) {
      if (!resources.has(resource))
        problems.push({
          path: [...path, 'resources', index],
          message: `unknown resource "${resource}"; declare it under resources`,
        });
    }
    const tokenEnv = field(server, 'tokenEnv');
    const tokenFile = field(server, 'tokenFile');
    if ((typeof tokenEnv === 'string') === (typeof tokenFile === 'string')) continue; // the schema says so
    const token = readResourceServerToken(
      typeof tokenEnv === 'string' ? { tokenEnv } : { tokenFile: String(tokenFile) },
      source,
      path,
      problems,
    );
    if (token === null) continue;
    const other = holders.get(token);
    if (other !== undefined) {
      problems.push({
        path: [...path, typeof tokenEnv === 'string' ? 'tokenEnv' : 'tokenFile'],
        message: `the same token as resource server "${other}"; give each its own`,
      });
      continue;
    }
    holders.set(token, id);
    tokens.set(id, token);
  }
}
