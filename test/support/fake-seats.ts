import type {
  AccessOutcome,
  AccessProvisioner,
  AccessTarget,
  CredentialIssuer,
  GrantRecord,
} from '../../server/index.js';

/** A seat in an outside tool, kept in memory; each call can be held back or made to fail. */
export class FakeSeats implements CredentialIssuer, AccessProvisioner {
  readonly kind = 'seat';
  readonly access: AccessProvisioner = this;
  readonly seats = new Map<string, Date>();
  readonly calls: string[] = [];
  failing = false;
  private held: (() => void) | null = null;
  private holdNext = false;
  private holdRevoke = false;
  private failRevoke = false;
  private holdIssue = false;

  /** The next provision waits until `release` is called. */
  holdNextProvision(): void {
    this.holdNext = true;
  }

  /** The next revocation waits until `release` is called. */
  holdNextRevoke(): void {
    this.holdRevoke = true;
  }

  /** The next revocation fails (once it is released, if held). */
  failNextRevoke(): void {
    this.failRevoke = true;
  }

  /** The next credential is made only once `release` is called. */
  holdNextIssue(): void {
    this.holdIssue = true;
  }

  /** Whether a call is waiting for `release`. */
  get holding(): boolean {
    return this.held !== null;
  }

  release(): void {
    this.held?.();
    this.held = null;
  }

  async provision(target: AccessTarget): Promise<AccessOutcome> {
    this.calls.push(`provision ${target.grantId}`);
    if (this.holdNext) {
      this.holdNext = false;
      await new Promise<void>((resolve) => {
        this.held = resolve;
      });
    }
    if (this.failing) throw new Error('the licence server does not answer');
    this.seats.set(target.grantId, target.expiresAt);
    return { seat: target.grantId };
  }

  async revoke(target: Pick<AccessTarget, 'grantId'>): Promise<AccessOutcome> {
    this.calls.push(`revoke ${target.grantId}`);
    if (this.holdRevoke) {
      this.holdRevoke = false;
      await new Promise<void>((resolve) => {
        this.held = resolve;
      });
    }
    if (this.failing || this.failRevoke) {
      this.failRevoke = false;
      throw new Error('the licence server does not answer');
    }
    const existed = this.seats.delete(target.grantId);
    return { existed };
  }

  async issue(grant: GrantRecord): Promise<{ secret: Record<string, unknown>; expiresAt: Date }> {
    if (this.holdIssue) {
      this.holdIssue = false;
      await new Promise<void>((resolve) => {
        this.held = resolve;
      });
    }
    return { secret: { licenceKey: `key-for-${grant.id}` }, expiresAt: grant.expires_at };
  }

  async provisionedGrantIds(): Promise<string[]> {
    if (this.failing) throw new Error('the licence server does not answer');
    return [...this.seats.keys()];
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }
}
