// A token bucket that refills continuously: the one rate-limiting primitive, used by the
// Worker (per token subject) and by each Station (per station). Pure: time comes in as `nowMs`.

export class TokenBucket {
  private tokens: number;
  private updatedAtMs: number;

  constructor(
    private ratePerSecond: number,
    private capacity: number,
    nowMs: number,
  ) {
    this.tokens = capacity;
    this.updatedAtMs = nowMs;
  }

  /** Changes the rate (config changed); the tokens already held stay, up to the new capacity. */
  configure(ratePerSecond: number, capacity: number, nowMs: number): void {
    if (ratePerSecond === this.ratePerSecond && capacity === this.capacity) return;
    this.refill(nowMs);
    this.ratePerSecond = ratePerSecond;
    this.capacity = capacity;
    this.tokens = Math.min(this.tokens, capacity);
  }

  /**
   * Milliseconds until `cost` could be taken (0: it can be now). A cost larger than the whole
   * bucket is let through once the bucket is full, leaving it in debt, so that a big request is
   * never refused forever: its sender then waits until the rate has paid it back.
   */
  waitMs(cost: number, nowMs: number): number {
    this.refill(nowMs);
    const needed = Math.min(cost, this.capacity);
    if (this.tokens >= needed) return 0;
    return Math.max(1, Math.ceil(((needed - this.tokens) / this.ratePerSecond) * 1000));
  }

  /** Takes `cost`, in debt if need be; call after every bucket involved said `waitMs` 0. */
  take(cost: number): void {
    this.tokens -= cost;
  }

  /** True when the bucket is full again: it holds no state worth keeping. */
  isFull(nowMs: number): boolean {
    this.refill(nowMs);
    return this.tokens >= this.capacity;
  }

  private refill(nowMs: number): void {
    const elapsedMs = nowMs - this.updatedAtMs;
    if (elapsedMs > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsedMs / 1000) * this.ratePerSecond);
      this.updatedAtMs = nowMs;
    }
  }
}
