import { createHash, randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { Database } from '../db/database.js';
import type { SessionRecord } from '../domain/records.js';
import { listPage } from '../domain/store.js';
import type { Work, UnitOfWork } from '../domain/work.js';
import type { LiveSessions } from '../events/hub.js';
import type { Clock } from '../../api/clock.js';
import { formatDuration } from '../../api/duration.js';
import type { sessionListQuery, SessionView } from '../../api/schemas.js';
import { ApiError, forbidden } from '../lib/errors.js';
import { newId } from '../lib/ids.js';
import type { Policy, PolicyUser } from '../policy/types.js';
import type { Principals } from './principals.js';

export interface Session {
  readonly user: PolicyUser;
  /** The session's public id (`ses_…`): lists and ends name it; the token never leaves the client. */
  readonly id: string;
  readonly tokenHash: string;
  /** When it ends by itself (tokenTtl), ms. */
  readonly expiresAt: number;
  /** `password` or `oidc:<provider>`. */
  readonly authMethod: string;
  /** When the person last proved who they are (at the provider, for single sign-on), ms. */
  readonly authTime: number;
  /** Whether that proof had more than one factor. */
  readonly mfa: boolean;
}

/** How a person proved who they are when a session starts. */
export interface SignInProof {
  readonly method: string;
  readonly authTime: number;
  readonly mfa: boolean;
}

/** Where a session was started from, for the person's list of their sessions. */
export interface SessionOrigin {
  /** The client's User-Agent, shortened. */
  readonly device: string;
  readonly address: string;
}

/** Why a session ended before its time, as the audit log and `token_revoked` tell it. */
export type SessionEndReason = 'signed_out' | 'ended_by_owner' | 'ended_by_admin' | 'offboarded';

const TOKEN_PREFIX = 'tbx_';
const MAX_DEVICE_LENGTH = 200;
/**
 * A session's last use is written at most once a minute (per session, on any instance), so the calls of
 * a busy client cost no extra write; the idle timeout therefore counts from up to a minute early.
 */
const SESSION_USE_GRANULARITY_MS = 60_000;

export const unauthorized = (code: string, message: string): ApiError =>
  new ApiError(401, code, message, undefined, { 'www-authenticate': `Bearer error="invalid_token"` });

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const sessionNotFound = (id: string): ApiError =>
  new ApiError(404, 'session_not_found', `No live session with id "${id}" exists, or you may not see it.`);

/**
 * Signed-in sessions. Tokens are random, stored only as hashes, and stop working at logout, when their
 * owner or an administrator ends them, after `tokenTtl`, or after `idleTimeout` without use. An event
 * stream belongs to its session: when the session ends, the commit's NOTIFY ends its streams on every
 * instance.
 */
export class Sessions implements LiveSessions {
  constructor(
    private readonly policy: Policy,
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly principals: Principals,
  ) {}

  /** A new session for `user`, written in the sign-in's transaction. */
  async start(
    work: Work,
    user: PolicyUser,
    origin: SessionOrigin,
    proof: SignInProof,
  ): Promise<{ token: string; id: string; expiresAt: Date }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = newId('ses');
    const expiresAt = new Date(work.now + this.policy.service.tokenTtlSeconds * 1000);
    await work.sql.query(
      `INSERT INTO sessions (token_hash, id, user_id, created_at, expires_at, last_used_at, device, address,
                             auth_method, auth_time, mfa)
       VALUES ($1, $2, $3, $4, $5, $4, $6, $7, $8, $9, $10)`,
      [
        hashToken(token),
        id,
        user.id,
        new Date(work.now),
        expiresAt,
        origin.device.slice(0, MAX_DEVICE_LENGTH),
        origin.address,
        proof.method,
        new Date(proof.authTime),
        proof.mfa,
      ],
    );
    auditSession(work, user.id, user.id, 'session.started', {
      sessionId: id,
      expiresAt: expiresAt.toISOString(),
      method: proof.method,
      mfa: proof.mfa,
    });
    return { token, id, expiresAt };
  }

  /**
   * The signed-in user behind an `Authorization: Bearer` header, or a 401 that says what to do. Every call
   * counts as use of the session (written at most once a minute).
   */
  async authenticate(authorization: string | undefined, address: string): Promise<Session> {
    // The scheme is case-insensitive (RFC 9110); a Bearer value we could not have issued is invalid.
    const [scheme, credentials, ...rest] = (authorization ?? '').trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || credentials === undefined) {
      throw unauthorized('missing_token', 'Sign in first: send Authorization: Bearer <token>.');
    }
    if (rest.length > 0 || !/^[A-Za-z0-9_-]{1,200}$/.test(credentials)) {
      throw unauthorized('invalid_token', 'This token is not valid; sign in again.');
    }
    const tokenHash = hashToken(credentials);
    // The person's row, when a provider brought them in, comes along: another instance may have taken
    // them in, or new groups, since this one last heard.
    const [session] = await this.db.query<
      SessionRecord & {
        directory_name: string | null;
        directory_groups: unknown;
        directory_active: boolean | null;
      }
    >(
      `SELECT s.id, s.user_id, s.expires_at, s.revoked_at, s.last_used_at, s.auth_method, s.auth_time, s.mfa,
              d.display_name AS directory_name, d.groups AS directory_groups, d.active AS directory_active
         FROM sessions s LEFT JOIN directory_users d ON d.id = s.user_id
        WHERE s.token_hash = $1`,
      [tokenHash],
    );
    if (!session) throw unauthorized('invalid_token', 'This token is not valid; sign in again.');
    if (session.revoked_at)
      throw unauthorized('token_revoked', 'This session was signed out or ended; sign in again.');
    const now = this.clock.now();
    if (session.expires_at.getTime() <= now)
      throw unauthorized('token_expired', 'Your session has expired; sign in again.');
    const idleMs = this.policy.service.idleTimeoutSeconds * 1000;
    if (session.last_used_at.getTime() + idleMs <= now) {
      throw unauthorized(
        'token_idle',
        `You were signed out after ${formatDuration(idleMs / 1000)} without using Timebox; sign in again.`,
      );
    }
    const user = this.principals.current(
      session.user_id,
      session.directory_name === null
        ? null
        : {
            displayName: session.directory_name,
            groups: stringsOf(session.directory_groups),
            active: session.directory_active === true,
          },
    );
    if (!user) throw unauthorized('invalid_token', 'This account no longer exists.');
    if (now - session.last_used_at.getTime() >= SESSION_USE_GRANULARITY_MS) {
      await this.db.query(
        'UPDATE sessions SET last_used_at = $2, address = $3 WHERE token_hash = $1 AND revoked_at IS NULL',
        [tokenHash, new Date(now), address],
      );
    }
    return {
      user,
      id: session.id,
      tokenHash,
      expiresAt: session.expires_at.getTime(),
      authMethod: session.auth_method,
      authTime: session.auth_time.getTime(),
      mfa: session.mfa,
    };
  }

  async logout(session: Session): Promise<void> {
    await this.uow.run(async (work) => {
      await this.endWhere(work, 'token_hash = $1', [session.tokenHash], {
        actorId: session.user.id,
        reason: 'signed_out',
      });
    });
  }

  /** The live sessions of the caller, or (admins) of everyone or one person, most recent first. */
  async list(
    actor: Session,
    query: z.output<typeof sessionListQuery>,
  ): Promise<{ items: SessionView[]; next: string | null }> {
    if ((query.scope === 'all' || query.userId !== undefined) && !actor.user.isAdmin)
      throw forbidden('admin_only', "Only administrators may list other people's sessions.");
    const now = new Date(this.clock.now());
    const idleSince = new Date(now.getTime() - this.policy.service.idleTimeoutSeconds * 1000);
    const owner = query.userId ?? (query.scope === 'mine' ? actor.user.id : undefined);
    const { items, next } = await listPage(this.db, 'sessions', query, (param) => [
      'revoked_at IS NULL',
      `expires_at > ${param(now)}`,
      `last_used_at > ${param(idleSince)}`,
      ...(owner === undefined ? [] : [`user_id = ${param(owner)}`]),
    ]);
    return { items: items.map((row) => this.view(row, actor.id)), next };
  }

  /**
   * Ends a live session: the caller's own (any of them), or anyone's for an administrator. Its token stops
   * working and its event streams end on every instance. Someone else's session is not found (404).
   */
  async end(actor: Session, sessionId: string): Promise<void> {
    await this.uow.run(async (work) => {
      const [target] = await work.sql.query<{ user_id: string }>(
        `SELECT user_id FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 FOR UPDATE`,
        [sessionId, new Date(work.now)],
      );
      if (!target || (target.user_id !== actor.user.id && !actor.user.isAdmin))
        throw sessionNotFound(sessionId);
      await this.endWhere(work, 'id = $1', [sessionId], {
        actorId: actor.user.id,
        reason: target.user_id === actor.user.id ? 'ended_by_owner' : 'ended_by_admin',
      });
    });
  }

  /**
   * At start: the sessions of people no longer in the policy end (offboarding), with their streams on
   * instances still running an older policy. Answers how many ended.
   */
  async endSessionsOfRemovedUsers(): Promise<number> {
    return this.uow.run(async (work) => {
      const ended = await this.endWhere(
        work,
        'NOT (user_id = ANY($1::text[]))',
        [[...this.policy.users.keys()]],
        { actorId: null, reason: 'offboarded' },
      );
      return ended.length;
    });
  }

  /** Ends every live session of `userId` in `work` (offboarding): their tokens and streams stop. */
  async endAllOf(work: Work, userId: string, reason: SessionEndReason): Promise<number> {
    const ended = await this.endWhere(work, 'user_id = $1', [userId], { actorId: null, reason });
    return ended.length;
  }

  async keepAlive(sessionIds: readonly string[]): Promise<ReadonlySet<string>> {
    const now = new Date(this.clock.now());
    const rows = await this.db.query<{ id: string }>(
      `UPDATE sessions SET last_used_at = $2
        WHERE id = ANY($1::text[]) AND revoked_at IS NULL AND expires_at > $2 RETURNING id`,
      [sessionIds, now],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Ends the live sessions `condition` selects (its parameters from $1), each audited, and their streams. */
  private async endWhere(
    work: Work,
    condition: string,
    params: readonly unknown[],
    by: { readonly actorId: string | null; readonly reason: SessionEndReason },
  ): Promise<{ id: string; user_id: string }[]> {
    const at = `$${params.length + 1}`;
    const ended = await work.sql.query<{ id: string; user_id: string }>(
      `UPDATE sessions SET revoked_at = ${at}, end_reason = $${params.length + 2}, ended_by = $${params.length + 3}
        WHERE ${condition} AND revoked_at IS NULL AND expires_at > ${at} RETURNING id, user_id`,
      [...params, new Date(work.now), by.reason, by.actorId],
    );
    work.sessionsEnded(ended.map((session) => session.id));
    for (const session of ended) {
      auditSession(work, by.actorId, session.user_id, 'session.ended', {
        sessionId: session.id,
        reason: by.reason,
      });
    }
    return ended;
  }

  private view(row: SessionRecord, currentId: string): SessionView {
    return {
      id: row.id,
      userId: row.user_id,
      current: row.id === currentId,
      device: row.device,
      address: row.address,
      createdAt: row.created_at.toISOString(),
      lastUsedAt: row.last_used_at.toISOString(),
      expiresAt: row.expires_at.toISOString(),
      idleExpiresAt: new Date(
        Math.min(
          row.expires_at.getTime(),
          row.last_used_at.getTime() + this.policy.service.idleTimeoutSeconds * 1000,
        ),
      ).toISOString(),
    };
  }
}

/** A jsonb list of groups, parsed by both drivers; anything else grants nothing. */
function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function auditSession(
  work: Work,
  actorId: string | null,
  userId: string,
  action: string,
  data: Record<string, unknown>,
): void {
  // The subject is the user, never the token: the log must not hold anything that signs in.
  work.audit({ actorId, action, subjectType: 'session', subjectId: userId, data });
}
