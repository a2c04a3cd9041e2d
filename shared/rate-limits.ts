// Request and byte rates, the one shape for every limit a caller can hit: a station's own
// (its config) and a token's (its claims). Over the rate → 429 `rate_limited` with Retry-After.
import * as v from "valibot";
import { MAX_RATE_BYTES_PER_SECOND, MAX_RATE_REQUESTS_PER_SECOND } from "./limits";
import { intInRange } from "./numbers";

export const RateLimitSchema = v.strictObject({
  /** Sustained requests per second; bursts of up to twice as many are let through. */
  requestsPerSecond: v.optional(intInRange(1, MAX_RATE_REQUESTS_PER_SECOND)),
  /** Sustained request-body bytes per second; one request larger than the burst still passes,
   *  and the caller then waits until the rate has paid it back. */
  bytesPerSecond: v.optional(intInRange(1, MAX_RATE_BYTES_PER_SECOND)),
});
export type RateLimit = v.InferOutput<typeof RateLimitSchema>;

/** A rate with every field set: what an enforcer works with. */
export interface Rates {
  requestsPerSecond: number;
  bytesPerSecond: number;
}

/** A bucket holds this many seconds of its rate: the burst a quiet caller may spend at once. */
export const BURST_SECONDS = 2;

/** Fills the fields a limit leaves out from `defaults`. */
export function resolveRates(limit: RateLimit | undefined, defaults: Rates): Rates {
  return {
    requestsPerSecond: limit?.requestsPerSecond ?? defaults.requestsPerSecond,
    bytesPerSecond: limit?.bytesPerSecond ?? defaults.bytesPerSecond,
  };
}
