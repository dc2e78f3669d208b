import type { Clock } from '../../api/clock.js';
import type { AccessProvisioner } from '../credentials/issuer.js';
import type { Sql } from '../db/sql.js';

export interface LoginSamplerLogger {
  warn(details: object, message: string): void;
}

export interface LoginSamplerTiming {
  /** Time between two samples. */
  readonly intervalMs: number;
  /** The longest one resource's answer may take; a target that does not answer is skipped this round. */
  readonly timeoutMs: number;
}

export const DEFAULT_LOGIN_SAMPLING: LoginSamplerTiming = { intervalMs: 30_000, timeoutMs: 5_000 };

class SampleTimeout extends Error {
  constructor(resourceId: string, timeoutMs: number) {
    super(`${resourceId} did not say which logins are in use within ${timeoutMs} ms`);
    this.name = 'SampleTimeout';
  }
}

/**
 * Watches whether the access outside the service is used: every interval it asks each resource that can
 * tell (a PostgreSQL target, from its pg_stat_activity) how many sessions each active grant's login has,
 * and records the grants seen in use. It runs on real time, in the background, away from every request;
 * a grant never seen in use by the time it ends is "login never used" in the insights.
 *
 * A sample takes a short look: a login used only between two samples can be missed, so "never used" means
 * "never seen in use", which the insights page says.
 */
export class LoginSampler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly clock: Clock,
    private readonly provisioners: readonly (readonly [resourceId: string, provisioner: AccessProvisioner])[],
    private readonly logger: LoginSamplerLogger,
    private readonly timing: LoginSamplerTiming = DEFAULT_LOGIN_SAMPLING,
  ) {}

  private observable(): (readonly [string, AccessProvisioner])[] {
    return this.provisioners.filter(([, provisioner]) => provisioner.openSessions !== undefined);
  }

  /** Starts sampling, unless no resource can say whether its access is used. */
  start(): void {
    if (this.timer || this.observable().length === 0) return;
    this.timer = setInterval(() => {
      void this.sample();
    }, this.timing.intervalMs);
    // Sampling alone never keeps the process alive.
    this.timer.unref();
  }

  /** Stops sampling and waits for a sample in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /**
   * One sample of every active grant's access; never throws (a failure is logged, the next sample tries
   * again). Resolves to the number of grants seen in use. Samples never overlap.
   */
  sample(): Promise<number> {
    this.running ??= this.sampleOnce().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sampleOnce(): Promise<number> {
    let seen = 0;
    for (const [resourceId, provisioner] of this.observable()) {
      try {
        seen += await this.sampleResource(resourceId, provisioner);
      } catch (error) {
        this.logger.warn(
          { err: error, resourceId },
          'could not sample which logins are in use; trying again',
        );
      }
    }
    return seen;
  }

  private async sampleResource(resourceId: string, provisioner: AccessProvisioner): Promise<number> {
    const at = this.clock.now();
    const active = await this.sql.query<{ id: string }>(
      `SELECT id FROM grants WHERE status = 'active' AND resource_id = $1 AND expires_at > $2`,
      [resourceId, new Date(at)],
    );
    if (active.length === 0 || !provisioner.openSessions) return 0;
    const sessions = await this.withTimeout(
      resourceId,
      provisioner.openSessions(active.map((grant) => grant.id)),
    );
    const used = [...sessions].filter(([, count]) => count > 0);
    if (used.length === 0) return 0;
    await this.sql.query(
      `INSERT INTO grant_login_use (grant_id, first_seen_at, last_seen_at, peak_sessions)
       SELECT grant_id, $3, $3, sessions FROM unnest($1::text[], $2::int[]) AS seen(grant_id, sessions)
       ON CONFLICT (grant_id) DO UPDATE
         SET last_seen_at = EXCLUDED.last_seen_at,
             peak_sessions = greatest(grant_login_use.peak_sessions, EXCLUDED.peak_sessions)`,
      [used.map(([grantId]) => grantId), used.map(([, count]) => count), new Date(at)],
    );
    return used.length;
  }

  private async withTimeout<T>(resourceId: string, work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new SampleTimeout(resourceId, this.timing.timeoutMs));
      }, this.timing.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
