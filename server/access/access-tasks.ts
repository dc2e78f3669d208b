import type { AccessOutcome, AccessProvisioner, IssuerRegistry } from '../credentials/issuer.js';
import type { DueTask } from '../domain/due.js';
import type { GrantRecord } from '../domain/records.js';
import type { UnitOfWork, Work } from '../domain/work.js';
import type { Clock } from '../../api/clock.js';
import type { Metrics } from '../ops/metrics.js';

/** Whether a grant's access outside the service must exist (while it is active) or be gone. */
export type AccessGoal = 'present' | 'absent';

/** What the domain asks of the access queue, in the transaction that changes the grant. */
export interface AccessLedger {
  /** Records that the grant's outside access must reach `goal`; done after the transaction commits. */
  want(
    work: Work,
    grant: Pick<GrantRecord, 'id' | 'user_id' | 'resource_id' | 'role' | 'expires_at'>,
    goal: AccessGoal,
  ): Promise<void>;
}

interface AccessTaskRow {
  readonly grant_id: string;
  readonly user_id: string | null;
  readonly resource_id: string;
  readonly role: string;
  readonly goal: AccessGoal;
  readonly expires_at: Date;
  readonly due_at: Date | null;
  readonly attempts: number;
  readonly version: number;
  readonly last_error: string | null;
  readonly failing_since: Date | null;
}

export interface AccessTasksLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

// An operation claimed by an instance that then dies (or written by one that dies before it claims it) is
// picked up again after this long.
const LEASE_MS = 60_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
const RECONCILE_RETRY_MAX_MS = 60_000;
const CLAIM_BATCH = 50;

const retryDelay = (attempt: number, max: number): number =>
  Math.min(max, RETRY_MIN_MS * 2 ** Math.max(0, attempt - 1));

/**
 * The durable queue between grants and the access they stand for outside the service (database logins,
 * seats in other tools). A grant's activation, extension and end record the goal in the same transaction
 * (`access_tasks`, one row per grant); the scheduler claims due rows with a lease and this class carries
 * them out in the background, so a slow or unreachable database never holds up expiry of other grants.
 *
 * A failure is retried with backoff until it works, and is never silent: the first failure of a streak
 * is audited (`access.failed`), every one is logged and counted, and the success that ends the streak
 * says how long it took. A row's `version` changes with every new goal, so the outcome of an operation
 * that a newer goal overtook never overwrites it; when a provisioning finishes after its grant ended, the
 * revocation runs once more, so no login outlives its grant.
 */
export class AccessTasks implements AccessLedger {
  private readonly inFlight = new Set<Promise<void>>();
  private cancelReconcile: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly issuers: IssuerRegistry,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly logger: AccessTasksLogger,
  ) {}

  async want(
    work: Work,
    grant: Pick<GrantRecord, 'id' | 'user_id' | 'resource_id' | 'role' | 'expires_at'>,
    goal: AccessGoal,
  ): Promise<void> {
    if (!this.issuers.forResource(grant.resource_id).access) return;
    await work.sql.query(
      `INSERT INTO access_tasks (grant_id, user_id, resource_id, role, goal, expires_at, due_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
       ON CONFLICT (grant_id) DO UPDATE SET goal = excluded.goal, expires_at = excluded.expires_at,
         due_at = excluded.due_at, attempts = 0, version = access_tasks.version + 1,
         updated_at = excluded.updated_at`,
      [grant.id, grant.user_id, grant.resource_id, grant.role, goal, grant.expires_at, this.dueNow(work)],
    );
    this.startDueWhenCommitted(work);
  }

  /**
   * A goal is due at once, and this instance starts it as soon as the change commits. Should this instance
   * die first (or while it carries the goal out), nothing would tell the others before their schedulers'
   * next deadlines, which may be hours away: so every instance's scheduler is woken when a claim's lease
   * would run out, and takes the goal over if it is still not done.
   */
  private dueNow(work: Work): Date {
    work.wake(new Date(work.now + LEASE_MS));
    return new Date(work.now);
  }

  /** The scheduler's task: claims what is due and starts it; the outcome is recorded when it ends. */
  dueTask(): DueTask {
    return { name: 'carry out access operations', run: (limit) => this.claimAndStart(limit) };
  }

  private startDue(failures = 0): void {
    if (this.stopped) return;
    this.track(
      this.claimAndStart(CLAIM_BATCH).then(
        (claimed) => {
          // More than one batch became due at once: take the next.
          if (claimed === CLAIM_BATCH) this.startDue();
        },
        (error: unknown) => {
          const delay = retryDelay(failures + 1, RETRY_MAX_MS);
          this.logger.warn({ err: error, retryInMs: delay }, 'could not claim access operations; retrying');
          this.clock.setTimer(() => {
            this.startDue(failures + 1);
          }, delay);
        },
      ),
    );
  }

  private async claimAndStart(limit: number): Promise<number> {
    if (this.stopped) return 0;
    const claimed = await this.uow.run((work) =>
      work.sql.query<AccessTaskRow>(
        `UPDATE access_tasks SET due_at = $2, attempts = attempts + 1
          WHERE grant_id IN (SELECT grant_id FROM access_tasks WHERE due_at <= $1
                              ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
          RETURNING *`,
        [new Date(work.now), new Date(work.now + LEASE_MS), limit],
      ),
    );
    for (const task of claimed) this.track(this.carryOut(task));
    return claimed.length;
  }

  /**
   * At start, compares what exists outside with the grants: access without an active grant behind it
   * (a crash between steps, a database restored from backup, a grant ended while the database was away
   * and the row since lost) is revoked, and an active grant whose access is missing gets it again.
   * Retried with backoff while a database is unreachable.
   */
  startReconciling(): void {
    const attempt = (failures: number): void => {
      this.cancelReconcile = null;
      this.track(
        this.reconcile().catch((error: unknown) => {
          if (this.stopped) return;
          const delay = retryDelay(failures + 1, RECONCILE_RETRY_MAX_MS);
          this.logger.warn({ err: error, retryInMs: delay }, 'access reconciliation failed; retrying');
          this.cancelReconcile = this.clock.setTimer(() => {
            attempt(failures + 1);
          }, delay);
        }),
      );
    };
    attempt(0);
  }

  /** Resolves when no operation is in progress (tests wait on it after moving the clock). */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Stops starting work and waits for what is in progress, so its outcome is recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelReconcile?.();
    await this.settled();
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async reconcile(): Promise<void> {
    for (const [resourceId, provisioner] of this.issuers.provisioners()) {
      const existing = new Set(await provisioner.provisionedGrantIds());
      await this.uow.run(async (work) => {
        const active = await work.sql.query<GrantRecord>(
          `SELECT * FROM grants WHERE resource_id = $1 AND status = 'active'`,
          [resourceId],
        );
        const activeIds = new Set(active.map((grant) => grant.id));
        const stray = [...existing].filter((grantId) => !activeIds.has(grantId));
        const missing = active.filter((grant) => !existing.has(grant.id));
        const ended = await work.sql.query<GrantRecord>(`SELECT * FROM grants WHERE id = ANY($1::text[])`, [
          stray,
        ]);
        const endedById = new Map(ended.map((grant) => [grant.id, grant]));
        for (const grantId of stray) {
          const grant = endedById.get(grantId);
          // A login named for a grant we have no record of is still ours (our prefix, our id format).
          await this.want(
            work,
            grant ?? {
              id: grantId,
              user_id: '',
              resource_id: resourceId,
              role: '',
              expires_at: new Date(work.now),
            },
            'absent',
          );
        }
        for (const grant of missing) await this.want(work, grant, 'present');
        if (stray.length > 0 || missing.length > 0) {
          work.audit({
            actorId: null,
            action: 'access.reconciled',
            subjectType: 'resource',
            subjectId: resourceId,
            // Ids of the first hundred of each, so one entry stays readable after a long outage.
            data: {
              revoking: stray.length,
              restoring: missing.length,
              revokingGrants: stray.slice(0, 100),
              restoringGrants: missing.slice(0, 100).map((grant) => grant.id),
            },
          });
        }
      });
      this.logger.info({ resourceId, found: existing.size }, 'access reconciled with the grants');
    }
  }

  private async carryOut(task: AccessTaskRow): Promise<void> {
    const provisioner: AccessProvisioner | undefined = this.issuers.forResource(task.resource_id).access;
    const operation = task.goal === 'present' ? 'provision' : 'revoke';
    try {
      if (!provisioner) {
        throw new Error(
          `resource ${task.resource_id} is no longer in the policy as a resource Timebox provisions`,
        );
      }
      const outcome =
        task.goal === 'present'
          ? await provisioner.provision({
              grantId: task.grant_id,
              userId: task.user_id ?? '',
              resourceId: task.resource_id,
              role: task.role,
              expiresAt: task.expires_at,
            })
          : await provisioner.revoke({
              grantId: task.grant_id,
              resourceId: task.resource_id,
              role: task.role,
            });
      await this.recordSuccess(task, operation, outcome);
    } catch (error) {
      await this.recordFailure(task, operation, error).catch((recordError: unknown) => {
        // Our own database is away too: the lease runs out and the operation is tried again.
        this.logger.warn({ err: recordError, grantId: task.grant_id }, 'could not record an access failure');
      });
    }
  }

  private async recordSuccess(task: AccessTaskRow, operation: string, outcome: AccessOutcome): Promise<void> {
    await this.uow.run(async (work) => {
      const [row] = await work.sql.query<AccessTaskRow>(
        `SELECT * FROM access_tasks WHERE grant_id = $1 FOR UPDATE`,
        [task.grant_id],
      );
      if (!row) return;
      if (row.version === task.version) {
        await work.sql.query(
          `UPDATE access_tasks SET due_at = NULL, attempts = 0, last_error = NULL, failing_since = NULL,
             updated_at = $2 WHERE grant_id = $1`,
          [task.grant_id, new Date(work.now)],
        );
      } else {
        if (task.goal === 'present' && row.goal === 'absent') {
          // The grant ended while its access was being made: whatever revocation ran may have come too
          // early, so revoke once more, and make any revocation still running record nothing.
          await work.sql.query(
            `UPDATE access_tasks SET due_at = $2, attempts = 0, version = version + 1, updated_at = $2
              WHERE grant_id = $1`,
            [task.grant_id, this.dueNow(work)],
          );
        }
        // The newer goal is due, but the claim its commit started passed over this row, locked by this
        // transaction (SKIP LOCKED), and nothing else would start it before the scheduler's next deadline.
        this.startDueWhenCommitted(work);
      }
      work.audit({
        actorId: null,
        action: task.goal === 'present' ? 'access.provisioned' : 'access.revoked',
        subjectType: 'grant',
        subjectId: task.grant_id,
        data: {
          ...outcome,
          resourceId: task.resource_id,
          attempts: task.attempts,
          ...(task.failing_since ? { failingSince: task.failing_since.toISOString() } : {}),
        },
      });
      work.onCommitted(() => {
        this.metrics.accessOperations.inc({ operation, outcome: 'done' });
      });
    });
  }

  /** Claims and starts what is due once `work` has committed, and so let go of the rows it locked. */
  private startDueWhenCommitted(work: Work): void {
    work.onCommitted(() => {
      this.startDue();
    });
  }

  private async recordFailure(task: AccessTaskRow, operation: string, error: unknown): Promise<void> {
    const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
    const delay = retryDelay(task.attempts, RETRY_MAX_MS);
    this.logger.warn(
      { err: error, grantId: task.grant_id, resourceId: task.resource_id, operation, retryInMs: delay },
      `could not ${operation} access; retrying`,
    );
    this.metrics.accessOperations.inc({ operation, outcome: 'failed' });
    await this.uow.run(async (work) => {
      const [row] = await work.sql.query<AccessTaskRow>(
        `SELECT * FROM access_tasks WHERE grant_id = $1 FOR UPDATE`,
        [task.grant_id],
      );
      if (!row) return;
      // A newer goal replaced this one and is already due: it is what runs next.
      if (row.version !== task.version) {
        // Its claim passed over this row, locked here (as in recordSuccess): start it once we let go.
        this.startDueWhenCommitted(work);
        return;
      }
      const retryAt = new Date(work.now + delay);
      await work.sql.query(
        `UPDATE access_tasks SET due_at = $2, last_error = $3, failing_since = coalesce(failing_since, $4),
           updated_at = $4 WHERE grant_id = $1`,
        [task.grant_id, retryAt, message, new Date(work.now)],
      );
      if (row.failing_since === null) {
        work.audit({
          actorId: null,
          action: 'access.failed',
          subjectType: 'grant',
          subjectId: task.grant_id,
          data: {
            operation,
            resourceId: task.resource_id,
            error: message,
            retryingEverySecondsUpTo: RETRY_MAX_MS / 1000,
          },
        });
      }
      work.wake(retryAt);
    });
  }
}
