import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/database.js';
import type { UnitOfWork, Work } from '../../domain/work.js';
import type { Directory, DirectoryRow } from '../directory.js';
import { groupsOf } from '../directory.js';
import type { Offboarding } from '../offboarding.js';
import {
  displayNameOf,
  LIST_SCHEMA,
  parseBody,
  parseFilter,
  patchBody,
  ScimError,
  scimUserBody,
  toScimUser,
  usernameOf,
} from './protocol.js';

const MAX_PAGE = 200;

/** The changes a SCIM call makes to one person. */
interface Change {
  readonly displayName?: string;
  readonly externalId?: string | null;
  readonly active?: boolean;
  readonly userName?: string;
}

const notFound = (id: string): ScimError => new ScimError(404, null, `No user with id "${id}".`);

/**
 * SCIM 2.0 Users (RFC 7644 §3) over the people the identity providers bring in: joiners created, movers
 * renamed, leavers deactivated or deleted, which offboards them at once in the same transaction. The
 * people of the policy file are the file's: SCIM neither lists nor changes them.
 */
export class ScimUsers {
  constructor(
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly directory: Directory,
    private readonly offboarding: Offboarding,
    private readonly baseUrl: () => string,
  ) {}

  async list(
    filter: string | undefined,
    startIndex: number,
    count: number,
  ): Promise<Record<string, unknown>> {
    const where = parseFilter(filter);
    const condition = where === null ? 'TRUE' : `${where.attribute} = $3`;
    const params: unknown[] = [Math.min(count, MAX_PAGE), Math.max(startIndex, 1) - 1];
    if (where !== null) params.push(where.value);
    const rows = await this.db.query<DirectoryRow>(
      `SELECT * FROM directory_users WHERE ${condition} ORDER BY created_at, id LIMIT $1 OFFSET $2`,
      params,
    );
    const [total] = await this.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM directory_users WHERE ${where === null ? 'TRUE' : `${where.attribute} = $1`}`,
      where === null ? [] : [where.value],
    );
    return {
      schemas: [LIST_SCHEMA],
      totalResults: total?.n ?? 0,
      startIndex: Math.max(startIndex, 1),
      itemsPerPage: rows.length,
      Resources: rows.map((row) => toScimUser(row, this.baseUrl())),
    };
  }

  async get(scimId: string): Promise<Record<string, unknown>> {
    const [row] = await this.db.query<DirectoryRow>('SELECT * FROM directory_users WHERE scim_id = $1', [
      scimId,
    ]);
    if (!row) throw notFound(scimId);
    return toScimUser(row, this.baseUrl());
  }

  async create(body: unknown): Promise<Record<string, unknown>> {
    const user = parseBody(scimUserBody, body);
    const username = usernameOf(user.userName);
    if (this.directory.isInFile(username)) {
      throw new ScimError(
        409,
        'uniqueness',
        `"${username}" is a person of the policy file; SCIM does not manage them.`,
      );
    }
    return this.uow.run(async (work) => {
      const [taken] = await work.sql.query('SELECT 1 FROM directory_users WHERE id = $1 FOR UPDATE', [
        username,
      ]);
      if (taken) throw new ScimError(409, 'uniqueness', `A user with userName "${username}" exists already.`);
      const [row] = await work.sql.query<DirectoryRow>(
        `INSERT INTO directory_users (id, display_name, groups, scim_id, external_id, active, created_at, updated_at)
         VALUES ($1, $2, '[]'::jsonb, $3, $4, $5, $6, $6) RETURNING *`,
        [
          username,
          displayNameOf(user, username),
          randomUUID(),
          user.externalId ?? null,
          user.active ?? true,
          new Date(work.now),
        ],
      );
      if (!row) throw new Error(`directory_users row of ${username} was not written`);
      work.audit({
        actorId: null,
        action: 'user.provisioned',
        subjectType: 'user',
        subjectId: username,
        data: { via: 'scim', displayName: row.display_name, active: row.active },
      });
      work.onCommitted(() => {
        this.directory.adopt(row);
      });
      return toScimUser(row, this.baseUrl());
    });
  }

  async replace(scimId: string, body: unknown): Promise<Record<string, unknown>> {
    const user = parseBody(scimUserBody, body);
    const username = usernameOf(user.userName);
    return this.change(scimId, {
      userName: username,
      displayName: displayNameOf(user, username),
      externalId: user.externalId ?? null,
      active: user.active ?? true,
    });
  }

  async patch(scimId: string, body: unknown): Promise<Record<string, unknown>> {
    const { Operations } = parseBody(patchBody, body);
    let change: Change = {};
    for (const operation of Operations) {
      const op = operation.op.toLowerCase();
      const entries: [string, unknown][] =
        operation.path === undefined
          ? Object.entries(objectValue(operation.value))
          : [[operation.path, operation.value]];
      for (const [path, value] of entries) change = { ...change, ...patchOf(op, path, value) };
    }
    return this.change(scimId, change);
  }

  async delete(scimId: string): Promise<void> {
    await this.uow.run(async (work) => {
      const row = await this.locked(work, scimId);
      if (row.active) await this.offboard(work, row);
      await work.sql.query('DELETE FROM directory_users WHERE id = $1', [row.id]);
      work.audit({
        actorId: null,
        action: 'user.deleted',
        subjectType: 'user',
        subjectId: row.id,
        data: { via: 'scim' },
      });
      work.onCommitted(() => {
        this.directory.forget(row.id);
      });
    });
  }

  private async change(scimId: string, change: Change): Promise<Record<string, unknown>> {
    return this.uow.run(async (work) => {
      const before = await this.locked(work, scimId);
      if (change.userName !== undefined && change.userName !== before.id) {
        throw new ScimError(
          400,
          'mutability',
          'userName cannot change: grants, requests and the audit log name it.',
        );
      }
      const [row] = await work.sql.query<DirectoryRow>(
        `UPDATE directory_users SET display_name = $2, external_id = $3, active = $4, updated_at = $5
          WHERE id = $1 RETURNING *`,
        [
          before.id,
          change.displayName ?? before.display_name,
          change.externalId === undefined ? before.external_id : change.externalId,
          change.active ?? before.active,
          new Date(work.now),
        ],
      );
      if (!row) throw notFound(scimId);
      if (before.active && !row.active) await this.offboard(work, before);
      work.audit({
        actorId: null,
        action:
          before.active && !row.active
            ? 'user.deactivated'
            : !before.active && row.active
              ? 'user.reactivated'
              : 'user.updated',
        subjectType: 'user',
        subjectId: row.id,
        data: { via: 'scim', displayName: row.display_name, active: row.active },
      });
      work.onCommitted(() => {
        this.directory.adopt(row);
      });
      return toScimUser(row, this.baseUrl());
    });
  }

  private async locked(work: Work, scimId: string): Promise<DirectoryRow> {
    const [row] = await work.sql.query<DirectoryRow>(
      'SELECT * FROM directory_users WHERE scim_id = $1 FOR UPDATE',
      [scimId],
    );
    if (!row) throw notFound(scimId);
    return row;
  }

  private offboard(work: Work, row: DirectoryRow): Promise<void> {
    return this.offboarding.offboard(work, {
      id: row.id,
      displayName: row.display_name,
      passwordHash: null,
      totpSecret: null,
      groups: groupsOf(row),
      isAdmin: false,
      isAuditor: false,
    });
  }
}

function objectValue(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ScimError(400, 'invalidValue', 'An operation without a path needs an object value.');
  }
  return value as Record<string, unknown>;
}

/** One PATCH operation on one attribute, as Okta and Entra send them (Entra: "Replace", "False"). */
function patchOf(op: string, path: string, value: unknown): Change {
  const attribute = path.toLowerCase();
  if (op === 'remove') {
    if (attribute === 'externalid') return { externalId: null };
    throw new ScimError(400, 'mutability', `${path} cannot be removed.`);
  }
  const text = (): string => {
    if (typeof value !== 'string' || value.length > 100)
      throw new ScimError(400, 'invalidValue', `${path} must be text.`);
    return value;
  };
  switch (attribute) {
    case 'active': {
      const active = typeof value === 'string' ? value.toLowerCase() : value;
      if (active !== true && active !== false && active !== 'true' && active !== 'false')
        throw new ScimError(400, 'invalidValue', 'active must be true or false.');
      return { active: active === true || active === 'true' };
    }
    case 'displayname':
    case 'name.formatted':
      return { displayName: text() };
    case 'externalid':
      return { externalId: text() };
    case 'username':
      return { userName: usernameOf(text()) };
    case 'name': {
      const formatted = objectValue(value).formatted;
      if (typeof formatted !== 'string') throw new ScimError(400, 'invalidValue', 'name needs formatted.');
      return { displayName: formatted.slice(0, 100) };
    }
    default:
      throw new ScimError(400, 'invalidPath', `Timebox does not keep ${path}.`);
  }
}
