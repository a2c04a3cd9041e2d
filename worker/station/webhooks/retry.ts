// When a failed delivery is tried again: the endpoint's schedule with jitter, or the receiver's
// `Retry-After` on 429/503 (bounded by MAX_RETRY_AFTER_MS). Pure functions of their inputs.
import { MAX_RETRY_AFTER_MS, RETRY_JITTER_FRACTION } from "../../../shared/webhooks";

/**
 * The delay before the next attempt after `attemptsMade` attempts failed, or null when the
 * schedule is used up (the message goes to the DLS). `retryAfterMs` (from the receiver) wins.
 */
export function nextRetryDelayMs(
  scheduleMs: readonly number[],
  attemptsMade: number,
  retryAfterMs: number | null,
  random: () => number = Math.random,
): number | null {
  const base = scheduleMs[attemptsMade - 1];
  if (base === undefined) return null;
  if (retryAfterMs !== null) return retryAfterMs;
  return Math.round(base * (1 + RETRY_JITTER_FRACTION * random()));
}

/**
 * `Retry-After` as milliseconds from `now`: delta-seconds or an HTTP date (RFC 9110 §10.2.3),
 * cut to [0, MAX_RETRY_AFTER_MS]. Null when absent or unreadable.
 */
export function parseRetryAfterMs(header: string | null, now: number): number | null {
  if (header === null) return null;
  const text = header.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(text)) ms = Number(text) * 1000;
  else if (!/^[A-Za-z]{3}/.test(text)) return null; // an HTTP date starts with a day name
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return null;
    ms = at - now;
  }
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/** Statuses whose `Retry-After` we honour. */
export function honoursRetryAfter(status: number): boolean {
  return status === 429 || status === 503;
}
