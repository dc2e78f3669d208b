import { createHash } from 'node:crypto';
import { TOTP } from 'otpauth';
import type { Database } from '../db/database.js';
import type { UnitOfWork } from '../domain/work.js';
import type { Clock } from '../../api/clock.js';
import { ApiError } from '../lib/errors.js';
import type { Metrics } from '../ops/metrics.js';
import type { Policy, PolicyUser } from '../policy/types.js';
import { LoginLimiter } from './login-limiter.js';
import { decoyHash, hashPassword, isWeakerThan, verifyPassword, type ScryptCost } from './passwords.js';
import type { SessionOrigin, Sessions } from './sessions.js';

export interface LoginResult {
  readonly token: string;
  readonly expiresAt: string;
  readonly user: PolicyUser;
}

const TOTP_PERIOD_SECONDS = 30;

const fingerprint = (passwordHash: string): string => createHash('sha256').update(passwordHash).digest('hex');

/**
 * Sign-in with a local account from the policy: the password, then the second factor when the account
 * has one. Failed sign-ins are limited per account and per address.
 *
 * A password hash made at a lower cost than the service's is upgraded at the next successful sign-in. The
 * policy file is read-only to the service, so the upgraded hash is kept in the database
 * (`password_upgrades`) with the fingerprint of the policy's hash it replaces, and preferred while the
 * policy still holds that hash: a password changed in the policy file wins over the upgrade of the old one.
 */
export class SignIn {
  private readonly perAccount: LoginLimiter;
  private readonly perAddress: LoginLimiter;
  // Compared against when the username is unknown, so the answer takes as long as for a known one.
  private readonly decoy: string;

  constructor(
    private readonly policy: Policy,
    private readonly db: Database,
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly sessions: Sessions,
    /** The cost of the hashes it writes, and the floor below which a hash is upgraded. */
    private readonly passwordCost: ScryptCost,
  ) {
    this.decoy = decoyHash(passwordCost);
    this.perAccount = new LoginLimiter(clock, policy.service.loginLimits.perAccount);
    this.perAddress = new LoginLimiter(clock, policy.service.loginLimits.perAddress);
  }

  async login(
    username: string,
    password: string,
    otp: string | undefined,
    origin: SessionOrigin,
  ): Promise<LoginResult> {
    if (!this.policy.identity.password) {
      throw new ApiError(
        403,
        'password_sign_in_disabled',
        'Password sign-in is off here; sign in with your company’s identity provider.',
      );
    }
    const accountKey = username.toLowerCase();
    const { address } = origin;
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
    const passwordHash = await this.passwordHashOf(username, user);
    const passwordOk = await verifyPassword(password, passwordHash);
    // A person who signs in only through an identity provider has no password to match.
    const policyHash = user?.passwordHash ?? null;
    if (!user || policyHash === null || !passwordOk) {
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
    const upgraded = isWeakerThan(passwordHash, this.passwordCost)
      ? await hashPassword(password, this.passwordCost)
      : null;
    const started = await this.uow.run(async (work) => {
      if (upgraded !== null) {
        await work.sql.query(
          `INSERT INTO password_upgrades (user_id, replaces, hash, upgraded_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (user_id) DO UPDATE
             SET replaces = excluded.replaces, hash = excluded.hash, upgraded_at = excluded.upgraded_at`,
          [user.id, fingerprint(policyHash), upgraded, new Date(work.now)],
        );
        work.audit({
          actorId: user.id,
          action: 'password.upgraded',
          subjectType: 'user',
          subjectId: user.id,
          data: { from: costWords(passwordHash), to: costWords(upgraded) },
        });
      }
      // A TOTP code is a second factor; the password alone is one.
      return this.sessions.start(work, user, origin, {
        method: 'password',
        authTime: work.now,
        mfa: user.totpSecret !== null,
      });
    });
    return { token: started.token, expiresAt: started.expiresAt.toISOString(), user };
  }

  /**
   * The hash a password is checked against: the upgrade of the policy's hash when there is one, else the
   * policy's; the decoy for an unknown username (after the same query, so both take as long).
   */
  private async passwordHashOf(username: string, user: PolicyUser | undefined): Promise<string> {
    const [upgrade] = await this.db.query<{ hash: string }>(
      'SELECT hash FROM password_upgrades WHERE user_id = $1 AND replaces = $2',
      [username, fingerprint(user?.passwordHash ?? this.decoy)],
    );
    return upgrade?.hash ?? user?.passwordHash ?? this.decoy;
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
}

/** `N=131072 r=8 p=1`: a hash's cost, for the audit log (never the hash). */
function costWords(passwordHash: string): string {
  const [, n, r, p] = passwordHash.split(':');
  return `N=${n ?? '?'} r=${r ?? '?'} p=${p ?? '?'}`;
}
