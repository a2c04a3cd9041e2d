// A pair of buckets (requests and bytes) at one rate, admitting a request only when both have
// room: the per-station and per-subject limits are each one RateGate.
import { BURST_SECONDS, type Rates } from "../../shared/rate-limits";
import { TokenBucket } from "./token-bucket";

export class RateGate {
  private readonly requests: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(rates: Rates, nowMs: number) {
    this.requests = new TokenBucket(rates.requestsPerSecond, capacityOf(rates.requestsPerSecond), nowMs);
    this.bytes = new TokenBucket(rates.bytesPerSecond, capacityOf(rates.bytesPerSecond), nowMs);
  }

  configure(rates: Rates, nowMs: number): void {
    this.requests.configure(rates.requestsPerSecond, capacityOf(rates.requestsPerSecond), nowMs);
    this.bytes.configure(rates.bytesPerSecond, capacityOf(rates.bytesPerSecond), nowMs);
  }

  /** Admits one request of `bytes` (returns 0) or says how many ms to wait (nothing taken). */
  admit(bytes: number, nowMs: number): number {
    const waitMs = Math.max(this.requests.waitMs(1, nowMs), this.bytes.waitMs(bytes, nowMs));
    if (waitMs > 0) return waitMs;
    this.requests.take(1);
    this.bytes.take(bytes);
    return 0;
  }

  isIdle(nowMs: number): boolean {
    return this.requests.isFull(nowMs) && this.bytes.isFull(nowMs);
  }
}

function capacityOf(ratePerSecond: number): number {
  return Math.max(1, ratePerSecond * BURST_SECONDS);
}

/** Whole seconds for a `Retry-After` header: at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}
