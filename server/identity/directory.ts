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

interface DirectoryRow {
  readonly id: string;
  readonly display_name: string;
  readonly groups: unknown;
  readonly provider: string;
  readonly subject: string;
}

const groupList = z.array(z.string());

/**
 * The policy file's people and those the identity providers brought in, as one map. The file wins: a
 * person named there signs in through a provider as themselves, with the file's groups and admin flag.
 * People brought in are never administrators; administrators are named in the file.
 */
export class Directory extends Map<string, PolicyUser> implements Principals {
  private constructor(private readonly fileUsers: ReadonlyMap<string, PolicyUser>) {
    super(fileUsers);
  }

  /** The file's people and everyone the database holds. */
  static async open(fileUsers: ReadonlyMap<string, PolicyUser>, db: Database): Promise<Directory> {
    const directory = new Directory(fileUsers);
    const rows = await db.query<DirectoryRow>(
      'SELECT id, display_name, groups, provider, subject FROM directory_users',
    );
    for (const row of rows) directory.learn(row.id, { displayName: row.display_name, groups: groupsOf(row) });
    return directory;
  }

  current(id: string, provisioned: ProvisionedPerson | null): PolicyUser | undefined {
    if (provisioned !== null && !this.fileUsers.has(id)) this.learn(id, provisioned);
    return this.get(id);
  }

  /**
   * Records the person a provider vouched for, in the sign-in's transaction: created at their first
   * sign-in, their name and groups replaced at each one after. A username that another person of the same
   * or another provider already holds is refused, so one account never changes hands.
   */
  async signedIn(work: Work, person: AssertedPerson): Promise<PolicyUser> {
    const fileUser = this.fileUsers.get(person.username);
    if (fileUser) return fileUser;
    const [holder] = await work.sql.query<DirectoryRow>(
      'SELECT id, display_name, groups, provider, subject FROM directory_users WHERE id = $1 FOR UPDATE',
      [person.username],
    );
    if (holder && (holder.provider !== person.provider || holder.subject !== person.subject)) {
      throw new ApiError(
        409,
        'username_taken',
        `Another account already signs in as "${person.username}"; ask an administrator to look at the identity provider's usernames.`,
      );
    }
    const groups = JSON.stringify(person.groups);
    const at = new Date(work.now);
    if (holder) {
      await work.sql.query(
        'UPDATE directory_users SET display_name = $2, groups = $3::jsonb, updated_at = $4 WHERE id = $1',
        [person.username, person.displayName, groups, at],
      );
    } else {
      await work.sql.query(
        `INSERT INTO directory_users (id, display_name, groups, provider, subject, created_at, updated_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $6)`,
        [person.username, person.displayName, groups, person.provider, person.subject, at],
      );
    }
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
    const user = toUser(person.username, person);
    work.onCommitted(() => {
      this.set(user.id, user);
    });
    return user;
  }

  private learn(id: string, person: ProvisionedPerson): void {
    this.set(id, toUser(id, person));
  }
}

function toUser(id: string, person: ProvisionedPerson): PolicyUser {
  return {
    id,
    displayName: person.displayName,
    passwordHash: null,
    totpSecret: null,
    groups: [...person.groups],
    isAdmin: false,
    isAuditor: false,
  };
}

function groupsOf(row: DirectoryRow): string[] {
  // jsonb arrives parsed from both PostgreSQL and PGlite; anything else is not ours and grants nothing.
  const parsed = groupList.safeParse(typeof row.groups === 'string' ? JSON.parse(row.groups) : row.groups);
  return parsed.success ? parsed.data : [];
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}
