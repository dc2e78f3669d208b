import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ProvisionedPerson, Principals } from '../auth/principals.js';
import type { Database } from '../db/database.js';
import type { Work } from '../domain/work.js';
import { ApiError } from '../lib/errors.js';
import type { PolicyUser } from '../policy/types.js';

/** A person as an identity provider describes them at sign-in, groups already mapped to the policy's. */
export interface AssertedPerson {
  readonly provider: string;
  /** The provider's stable id of the person (`sub`). */
  readonly subject: string;
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly string[];
}

export interface DirectoryRow {
  readonly id: string;
  readonly display_name: string;
  readonly groups: unknown;
  readonly provider: string | null;
  readonly subject: string | null;
  readonly scim_id: string | null;
  readonly external_id: string | null;
  readonly active: boolean;
  readonly created_at: Date;
  readonly updated_at: Date;
}

const groupList = z.array(z.string());

/**
 * The policy file's people and those the identity providers brought in, as one map. The file wins: a
 * person named there signs in through a provider as themselves, with the file's groups and admin flag.
 * People brought in are never administrators; administrators are named in the file. Only active people
 * are in the map: an offboarded person is nobody's approver.
 */
export class Directory extends Map<string, PolicyUser> implements Principals {
  private constructor(private readonly fileUsers: ReadonlyMap<string, PolicyUser>) {
    super(fileUsers);
  }

  /** The file's people and everyone active the database holds. */
  static async open(fileUsers: ReadonlyMap<string, PolicyUser>, db: Database): Promise<Directory> {
    const directory = new Directory(fileUsers);
    const rows = await db.query<DirectoryRow>('SELECT * FROM directory_users WHERE active');
    for (const row of rows) directory.adopt(row);
    return directory;
  }

  isInFile(id: string): boolean {
    return this.fileUsers.has(id);
  }

  current(id: string, provisioned: ProvisionedPerson | null): PolicyUser | undefined {
    if (provisioned === null || this.fileUsers.has(id)) return this.get(id);
    if (!provisioned.active) {
      this.delete(id);
      return undefined;
    }
    this.set(id, toUser(id, provisioned.displayName, provisioned.groups));
    return this.get(id);
  }

  /** Takes in (or refreshes, or with `active` false drops) a person as the database now holds them. */
  adopt(row: DirectoryRow): void {
    if (this.fileUsers.has(row.id)) return;
    if (row.active) this.set(row.id, toUser(row.id, row.display_name, groupsOf(row)));
    else this.delete(row.id);
  }

  /** Drops a person deleted from the database (never one of the file's). */
  forget(id: string): void {
    if (!this.fileUsers.has(id)) this.delete(id);
  }

  /**
   * Records the person a provider vouched for, in the sign-in's transaction: created at their first
   * sign-in (`jit`), or bound to the account SCIM made for their username (`scim`, where nobody else may
   * sign in); their name and groups replaced at each sign-in. A username another provider account holds
   * is refused, so one account never changes hands, as is an account SCIM deactivated.
   */
  async signedIn(work: Work, person: AssertedPerson, provisioning: 'jit' | 'scim'): Promise<PolicyUser> {
    const fileUser = this.fileUsers.get(person.username);
    if (fileUser) return fileUser;
    const [holder] = await work.sql.query<DirectoryRow>(
      'SELECT * FROM directory_users WHERE id = $1 FOR UPDATE',
      [person.username],
    );
    if (holder && !holder.active) {
      throw new ApiError(403, 'account_deactivated', `The account "${person.username}" was deactivated.`);
    }
    if (!holder && provisioning === 'scim') {
      throw new ApiError(
        403,
        'not_provisioned',
        `"${person.username}" has no Timebox account yet; ask an administrator to assign Timebox to you at the identity provider.`,
      );
    }
    const boundElsewhere =
      holder?.provider != null && (holder.provider !== person.provider || holder.subject !== person.subject);
    if (boundElsewhere) {
      throw new ApiError(
        409,
        'username_taken',
        `Another account already signs in as "${person.username}"; ask an administrator to look at the identity provider's usernames.`,
      );
    }
    const groups = JSON.stringify(person.groups);
    const at = new Date(work.now);
    const [row] = holder
      ? await work.sql.query<DirectoryRow>(
          `UPDATE directory_users SET display_name = $2, groups = $3::jsonb, provider = $4, subject = $5, updated_at = $6
            WHERE id = $1 RETURNING *`,
          [person.username, person.displayName, groups, person.provider, person.subject, at],
        )
      : await work.sql.query<DirectoryRow>(
          // A SCIM id from the start, so the IdP's SCIM client finds a person who signed in before it ran.
          `INSERT INTO directory_users (id, display_name, groups, provider, subject, scim_id, created_at, updated_at)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $7) RETURNING *`,
          [person.username, person.displayName, groups, person.provider, person.subject, randomUUID(), at],
        );
    if (!row) throw new Error(`directory_users row of ${person.username} was not written`);
    const changed =
      !holder || holder.display_name !== person.displayName || !sameGroups(groupsOf(holder), person.groups);
    if (changed) {
      work.audit({
        actorId: person.username,
        action: holder ? 'user.updated' : 'user.provisioned',
        subjectType: 'user',
        subjectId: person.username,
        data: { provider: person.provider, displayName: person.displayName, groups: [...person.groups] },
      });
    }
    work.onCommitted(() => {
      this.adopt(row);
    });
    return toUser(row.id, row.display_name, groupsOf(row));
  }
}

function toUser(id: string, displayName: string, groups: readonly string[]): PolicyUser {
  return {
    id,
    displayName,
    passwordHash: null,
    totpSecret: null,
    groups: [...groups],
    isAdmin: false,
    isAuditor: false,
  };
}

export function groupsOf(row: Pick<DirectoryRow, 'groups'>): string[] {
  // jsonb arrives parsed from both PostgreSQL and PGlite; anything else is not ours and grants nothing.
  const parsed = groupList.safeParse(typeof row.groups === 'string' ? JSON.parse(row.groups) : row.groups);
  return parsed.success ? parsed.data : [];
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
