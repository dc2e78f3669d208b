import { SERVICE_TIME_HEADER } from './service-time.js';

/**
 * Estimates the service's clock relative to ours from its answers' headers. Each answer only bounds the
 * offset: the service's time when it answered lay in [stamp, stamp + resolution), and that moment lay
 * between our send and our receipt. `Date` has one-second resolution; our service also sends
 * X-Timebox-Time in milliseconds, which is used when present. Intersecting the bounds of many answers
 * narrows the offset to a few milliseconds; the estimate is the middle.
 */
export class ClockOffsetEstimator {
  private low = Number.NEGATIVE_INFINITY;
  private high = Number.POSITIVE_INFINITY;
  private samples = 0;

  /** `sentAt` and `receivedAt` on our clock; the answer's headers. */
  observe(sentAt: number, receivedAt: number, headers: Pick<Headers, 'get'>): void {
    // Only digits count: Number('') and Number('  ') are 0, which would put the service in 1970.
    const raw = headers.get(SERVICE_TIME_HEADER)?.trim() ?? '';
    const precise = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
    const dated = Date.parse(headers.get('date') ?? '');
    // A millisecond stamp is as exact as our own timing of the round trip; Date leaves a whole second open.
    const [stamp, resolution] = Number.isFinite(precise) ? [precise, 0] : [dated, 1000];
    if (Number.isNaN(stamp)) return;
    // offset = serviceTime − localTime; serviceTime ∈ [stamp, stamp + resolution), localTime ∈ [sentAt, receivedAt].
    const low = stamp - receivedAt;
    const high = stamp + resolution - sentAt;
    if (low > this.high || high < this.low) {
      // Disjoint with what we knew: one of the clocks was set. Start over from this answer.
      this.low = low;
      this.high = high;
      this.samples = 1;
      return;
    }
    this.low = Math.max(this.low, low);
    this.high = Math.min(this.high, high);
    this.samples += 1;
  }

  /** Whether any answer has been measured since the start or the last reset. */
  get known(): boolean {
    return this.samples > 0;
  }

  /** Service time minus local time, in ms; 0 before any answer. */
  get offsetMs(): number {
    return this.samples === 0 ? 0 : Math.round((this.low + this.high) / 2);
  }

  /** Forget everything, when our own clock is known to have jumped. */
  reset(): void {
    this.low = Number.NEGATIVE_INFINITY;
    this.high = Number.POSITIVE_INFINITY;
    this.samples = 0;
  }
}
