// Sends one claimed attempt: a signed POST (Standard Webhooks headers, fresh timestamp per
// attempt), redirects not followed, cut off after the endpoint's timeout. Touches no storage:
// the caller records the result in a transaction afterwards.
import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../../shared/webhooks";
import type { AttemptResult, Claim } from "./webhook-queue";
import { parseRetryAfterMs } from "./webhook-retry";
import { signatureHeader } from "./webhook-signature";
import { checkWebhookUrl, type UrlCheck } from "./webhook-url";

const USER_AGENT = "Waystation-Webhooks/1";
const MAX_ERROR_LENGTH = 300;

/** Guard verdicts by URL: the same few URLs are checked at every attempt. */
const urlChecks = new Map<string, UrlCheck>();
const MAX_CACHED_URLS = 256;

function checkUrl(url: string, allowPrivate: boolean): UrlCheck {
  const key = `${allowPrivate ? 1 : 0} ${url}`;
  let check = urlChecks.get(key);
  if (!check) {
    check = checkWebhookUrl(url, allowPrivate);
    if (urlChecks.size >= MAX_CACHED_URLS) urlChecks.clear();
    urlChecks.set(key, check);
  }
  return check;
}

export async function sendAttempt(claim: Claim, allowPrivate: boolean): Promise<AttemptResult> {
  const at = Date.now();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const allowed = checkUrl(claim.url, allowPrivate);
  // Checked again at every attempt: an endpoint saved under WEBHOOK_ALLOW_PRIVATE=1 must not
  // reach a private address from a worker deployed without it.
  if (!allowed.ok) return { at, status: null, error: `url not allowed: ${allowed.message}`, retryAfterMs: null, durationMs: 0, urlRefused: true };
  const timestamp = Math.floor(at / 1000);
  // A timer we clear ourselves rather than AbortSignal.timeout(): its timer would outlive the
  // attempt and keep the object from being evicted or hibernating until it fires.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException("timed out", "TimeoutError")), claim.timeoutMs);
  try {
    const response = await fetch(claim.url, {
      method: "POST",
      redirect: "manual",
      signal: abort.signal,
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [WEBHOOK_ID_HEADER]: claim.webhookId,
        [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
        [WEBHOOK_SIGNATURE_HEADER]: await signatureHeader(claim.secrets, claim.webhookId, timestamp, claim.payload),
      },
      body: claim.payload,
    });
    // We never need the answer's body; cancelling frees the connection at once.
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    return {
      at,
      status,
      error: status >= 200 && status < 300 ? null : describeStatus(response),
      retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after"), Date.now()),
      durationMs: elapsed(),
    };
  } catch (error) {
    return { at, status: null, error: describeError(error, claim.timeoutMs), retryAfterMs: null, durationMs: elapsed() };
  } finally {
    clearTimeout(timer);
  }
}

function describeStatus(response: Response): string {
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location");
    return truncate(`HTTP ${response.status}: redirect${location ? ` to ${location}` : ""} not followed`);
  }
  return `HTTP ${response.status}`;
}

function describeError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError" || error.name === "AbortError") return `timeout: no answer within ${timeoutMs} ms`;
    return truncate(`${error.name}: ${error.message}`);
  }
  return truncate(String(error));
}

function truncate(text: string): string {
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
