// When to try again after a failure: exponential backoff with full jitter, capped (AWS
// Architecture Blog, "Exponential Backoff and Jitter"), unless the server said when (Retry-After).

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
