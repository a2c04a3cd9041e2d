// When to try again after a failure: exponential backoff with full jitter, capped (AWS
// Architecture Blog, "Exponential Backoff and Jitter"), unless the server said when (Retry-After).
// Delays are measured on a monotonic clock: a wall clock set back an hour must not stall syncing.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Milliseconds to wait before attempt `attempt + 1` (attempt ≥ 1 failures so far). */
export function backoffDelayMs(attempt: number, options: BackoffOptions, random: () => number, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

let fallbackWall = Date.now();
let fallbackNow = 0;

/**
 * Milliseconds on a clock that only moves forward at the pace of real time: performance.now()
 * (unaffected by the user or NTP setting the wall clock). Where it is missing, the wall clock's
 * forward steps are summed and its backward jumps ignored.
 */
export function monotonicNow(): number {
  if (typeof performance !== "undefined" && typeof performance.now === "function") return performance.now();
  const wall = Date.now();
  if (wall > fallbackWall) fallbackNow += wall - fallbackWall;
  fallbackWall = wall;
  return fallbackNow;
}
