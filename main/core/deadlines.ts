import type { DesktopClock } from './clock.js';

export interface TrackedGrant {
  readonly grantId: string;
  /**
   * On the service's clock, ms. null for a credential known only from the vault index (no grant loaded
   * yet, or no session): its expiry is watched, and there is nothing to remind of.
   */
  readonly startsAt: number | null;
  readonly expiresAt: number;
  /** When its credential is to be renewed, on the service's clock; null when it is not renewed. */
  readonly renewAt: number | null;
}

export interface DeadlineHandlers {
  /** A reminder lead reached: `secondsLeft` until expiry. */
  reminder(grantId: string, secondsLeft: number, leadSeconds: number): void;
  /** The grant's expiry passed on our (corrected) clock, whether or not the service has said so. */
  expired(grantId: string): void;
  /** Its credential is due for renewal (it stops working soon, while the grant goes on). */
  renew(grantId: string): void;
}

interface Deadline {
  readonly at: number; // local clock
  readonly grantId: string;
  readonly key: string;
  readonly fire: () => void;
}

/**
 * One timer, armed at the next local deadline of any grant: a reminder lead, a credential's renewal or an
 * expiry. Deadlines are
 * computed on the service's clock and moved onto ours with the measured offset. Each reminder fires once
 * per (grant, lead, expiry); a lead as long as the grant or longer is skipped; after a sleep that passed
 * several leads, only the latest one fires. Re-arm after resume, unlock or a clock change: the delay is
 * always measured from wall time, never remembered.
 */
export class DeadlineScheduler {
  private grants: readonly TrackedGrant[] = [];
  private leadsSeconds: readonly number[] = [];
  private offsetMs = 0;
  private readonly fired = new Set<string>();
  private cancel: (() => void) | null = null;
  private armedAt: number | null = null;
  /** Handlers may call update() while deadlines fire: that re-arm waits until firing is done. */
  private firing = false;
  private rearmRequested = false;

  constructor(
    private readonly clock: DesktopClock,
    private readonly handlers: DeadlineHandlers,
  ) {}

  /** The grants to watch (active ones), the reminder leads and the service's clock offset. */
  update(grants: readonly TrackedGrant[], leadsSeconds: readonly number[], offsetMs: number): void {
    this.grants = grants;
    // A lead given twice (a hand-edited settings file) is one lead: as two, each would mark the other spent.
    this.leadsSeconds = [...new Set(leadsSeconds)].sort((a, b) => b - a);
    this.offsetMs = offsetMs;
    const live = new Set(grants.map((grant) => grant.grantId));
    for (const key of this.fired) if (!live.has(key.split('|')[0] ?? '')) this.fired.delete(key);
    this.rearm();
  }

  /** When the timer fires next, on the local clock; null when nothing is watched. */
  get nextAt(): number | null {
    return this.armedAt;
  }

  /** Read after handlers ran: they may have asked (TypeScript cannot see that through the calls). */
  private askedToRearmWhileFiring(): boolean {
    return this.rearmRequested;
  }

  rearm(): void {
    if (this.firing) {
      this.rearmRequested = true;
      return;
    }
    this.cancel?.();
    this.cancel = null;
    this.armedAt = null;
    this.firing = true;
    try {
      do {
        this.rearmRequested = false;
        const now = this.clock.now();
        for (const deadline of this.pending()) {
          if (deadline.at > now || this.fired.has(deadline.key)) continue;
          this.fired.add(deadline.key);
          deadline.fire();
        }
      } while (this.askedToRearmWhileFiring());
    } finally {
      this.firing = false;
    }
    const now = this.clock.now();
    const next = this.pending()
      .filter((deadline) => deadline.at > now)
      .reduce<number | null>(
        (earliest, deadline) => (earliest === null || deadline.at < earliest ? deadline.at : earliest),
        null,
      );
    if (next === null) return;
    this.armedAt = next;
    this.cancel = this.clock.setTimer(() => {
      this.cancel = null;
      this.rearm();
    }, next - now);
  }

  stop(): void {
    this.cancel?.();
    this.cancel = null;
    this.armedAt = null;
    this.grants = [];
  }

  /** Every deadline not yet fired. Of the reminders already passed, only the latest counts. */
  private pending(): Deadline[] {
    const now = this.clock.now();
    const deadlines: Deadline[] = [];
    for (const grant of this.grants) {
      const expiresLocal = grant.expiresAt - this.offsetMs;
      const expiryKey = `${grant.grantId}|expired|${grant.expiresAt}`;
      if (!this.fired.has(expiryKey)) {
        deadlines.push({
          at: expiresLocal,
          grantId: grant.grantId,
          key: expiryKey,
          fire: () => {
            this.handlers.expired(grant.grantId);
          },
        });
      }
      // A renewal before the grant's end; a late one is due at once (it fires once per credential).
      if (grant.renewAt !== null && grant.renewAt < grant.expiresAt) {
        const renewKey = `${grant.grantId}|renew|${grant.renewAt}`;
        if (!this.fired.has(renewKey)) {
          deadlines.push({
            at: grant.renewAt - this.offsetMs,
            grantId: grant.grantId,
            key: renewKey,
            fire: () => {
              this.handlers.renew(grant.grantId);
            },
          });
        }
      }
      // Ended, or known from the index alone: no reminders for it.
      if (expiresLocal <= now || grant.startsAt === null) continue;
      const length = grant.expiresAt - grant.startsAt;
      const reminders = this.leadsSeconds
        .filter((lead) => lead * 1000 < length)
        .map((lead) => ({
          lead,
          at: expiresLocal - lead * 1000,
          key: `${grant.grantId}|lead|${lead}|${grant.expiresAt}`,
        }))
        .filter((reminder) => !this.fired.has(reminder.key));
      const passed = reminders.filter((reminder) => reminder.at <= now);
      // Several leads passed while asleep: say the time left now, once; the older ones are spent.
      const latestPassed = passed.reduce<(typeof passed)[number] | null>(
        (latest, reminder) => (latest === null || reminder.at > latest.at ? reminder : latest),
        null,
      );
      for (const reminder of passed) if (reminder !== latestPassed) this.fired.add(reminder.key);
      for (const reminder of reminders.filter(
        (candidate) => candidate.at > now || candidate === latestPassed,
      )) {
        deadlines.push({
          at: reminder.at,
          grantId: grant.grantId,
          key: reminder.key,
          fire: () => {
            this.handlers.reminder(
              grant.grantId,
              Math.max(0, Math.round((expiresLocal - this.clock.now()) / 1000)),
              reminder.lead,
            );
          },
        });
      }
    }
    return deadlines;
  }
}
