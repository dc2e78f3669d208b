import { createHash, randomBytes } from 'node:crypto';
import { TOTP } from 'otpauth';
import type { Database } from '../db/database.js';
import type { Work, UnitOfWork } from '../domain/work.js';
import type { Clock } from '../../api/clock.js';
import { ApiError } from '../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Policy, PolicyUser } from '../policy/types.js';
import { LoginLimiter } from './login-limiter.js';
import { hashPassword, verifyPassword } from './passwords.js';

export interface Session {
  readonly user: PolicyUser;
  readonly tokenHash: string;
}

export interface LoginResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly user: PolicyUser;
}

const TOKEN_PREFIX = 'tbx_';
const TOTP_PERIOD_SECONDS = 30;

const unauthorized = (code: string, message: string): ApiError =>
  new ApiError(401, code, message, undefined, { 'www-authenticate': `Bearer error="invalid_token"` });

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Local accounts from the policy. Tokens are random, stored only as hashes, expire after the policy's
 * tokenTtl and die at logout. Failed sign-ins are limited per account and per address.
 */
export class Sessions {
  private readonly perAccount: LoginLimiter;
  private readonly perAddress: LoginLimiter;
  // Compared against when the username is unknown, so the answer takes as long as for a known one.
  private readonly decoyHash: Promise<string>;

  constructor(
    private readonly policy: Policy,
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {
    this.perAccount = new LoginLimiter(clock, policy.service.loginLimits.perAccount);
    this.perAddress = new LoginLimiter(clock, policy.service.loginLimits.perAddress);
    this.decoyHash = hashPassword(randomBytes(16).toString('hex'));
  }

  async login(
    username: string,
    password: string,
    otp: string | undefined,
    address: string,
  ): Promise<LoginResult> {
    const accountKey = username.toLowerCase();
    const waitMs = Math.max(this.perAccount.retryAfterMs(accountKey), this.perAddress.retryAfterMs(address));
    if (waitMs > 0) {
      this.metrics.loginFailures.inc({ reason: 'rate_limited' });
      const seconds = Math.ceil(waitMs / 1000);
      throw new ApiError(
        429,
        'too_many_attempts',
        `Too many failed sign-ins; try again in ${seconds} seconds.`,
        { retryAfterSeconds: seconds },
        {
          'retry-after': String(seconds),
        },
      );
    }
    const user = this.policy.users.get(username);
    const passwordOk = await verifyPassword(password, user?.passwordHash ?? (await this.decoyHash));
    if (!user || !passwordOk) {
      this.fail(accountKey, address, 'invalid_credentials');
      throw new ApiError(401, 'invalid_credentials', 'The username or password is wrong.');
    }
    if (user.totpSecret !== null) {
      if (otp === undefined) {
        throw new ApiError(401, 'otp_required', 'Enter the 6-digit code from your authenticator app.');
      }
      if (!(await this.acceptOtp(user, user.totpSecret, otp))) {
        this.fail(accountKey, address, 'invalid_otp');
        throw new ApiError(
          401,
          'invalid_otp',
          'That code is wrong or was already used; enter the next code from your authenticator app.',
        );
      }
    }
    this.perAccount.reset(accountKey);
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const expiresAt = new Date(this.clock.now() + this.policy.service.tokenTtlSeconds * 1000);
    await this.uow.run(async (work) => {
      await work.sql.query(
        'INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [hashToken(token), user.id, new Date(work.now), expiresAt],
      );
      this.auditSession(work, user.id, 'session.started', { expiresAt: expiresAt.toISOString() });
    });
    return { token, expiresAt: expiresAt.toISOString(), user };
  }

  /** The signed-in user behind an `Authorization: Bearer` header, or a 401 that says what to do. */
  async authenticate(authorization: string | undefined): Promise<Session> {
    // The scheme is case-insensitive (RFC 9110); a Bearer value we could not have issued is invalid.
    const [scheme, credentials, ...rest] = (authorization ?? '').trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || credentials === undefined) {
      throw unauthorized('missing_token', 'Sign in first: send Authorization: Bearer <token>.');
    }
    if (rest.length > 0 || !/^[A-Za-z0-9_-]{1,200}$/.test(credentials)) {
      throw unauthorized('invalid_token', 'This token is not valid; sign in again.');
    }
    const tokenHash = hashToken(credentials);
    const [session] = await this.db.query<{ user_id: string; expires_at: Date; revoked_at: Date | null }>(
      'SELECT user_id, expires_at, revoked_at FROM sessions WHERE token_hash = $1',
      [tokenHash],
    );
    if (!session) throw unauthorized('invalid_token', 'This token is not valid; sign in again.');
    if (session.revoked_at)
      throw unauthorized('token_revoked', 'This session was signed out; sign in again.');
    if (session.expires_at.getTime() <= this.clock.now())
      throw unauthorized('token_expired', 'Your session has expired; sign in again.');
    const user = this.policy.users.get(session.user_id);
    if (!user) throw unauthorized('invalid_token', 'This account no longer exists.');
    return { user, tokenHash };
  }

  async logout(session: Session): Promise<void> {
    await this.uow.run(async (work) => {
      await work.sql.query(
        'UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL',
        [session.tokenHash, new Date(work.now)],
      );
      this.auditSession(work, session.user.id, 'session.ended', {});
    });
  }

  private fail(accountKey: string, address: string, reason: string): void {
    this.perAccount.recordFailure(accountKey);
    this.perAddress.recordFailure(address);
    this.metrics.loginFailures.inc({ reason });
  }

  /** A code is accepted once: the step it belongs to must be later than the last one used. */
  private async acceptOtp(user: PolicyUser, secret: string, otp: string): Promise<boolean> {
    const now = this.clock.now();
    const totp = new TOTP({ secret, period: TOTP_PERIOD_SECONDS, digits: 6, algorithm: 'SHA1' });
    const delta = totp.validate({ token: otp, timestamp: now, window: 1 });
    if (delta === null) return false;
    const step = Math.floor(now / 1000 / TOTP_PERIOD_SECONDS) + delta;
    const claimed = await this.db.query(
      `INSERT INTO totp_steps (user_id, last_step) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET last_step = excluded.last_step WHERE totp_steps.last_step < excluded.last_step
       RETURNING last_step`,
      [user.id, step],
    );
    return claimed.length === 1;
  }

  private auditSession(work: Work, userId: string, action: string, data: Record<string, unknown>): void {
    // The subject is the user, never the token: the log must not hold anything that signs in.
    work.audit({ actorId: userId, action, subjectType: 'session', subjectId: userId, data });
  }
}
