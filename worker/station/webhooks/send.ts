// Sends one claimed attempt: opens the endpoint's sealed secrets, checks the URL (and, when
// names are resolved, every address of its host) again, then a signed POST (Standard Webhooks
// headers, fresh timestamp per attempt), redirects not followed, cut off after the endpoint's
// timeout. Touches no storage: the caller records the result in a transaction afterwards.
import { DeliveryError, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, WEBHOOK_TIMESTAMP_HEADER } from "../../../shared/webhooks";
import { guardWebhookUrl, type HostResolver } from "./dns";
import type { AttemptResult, Claim } from "./queue";
import { parseRetryAfterMs } from "./retry";
import { openEndpointSecrets, sealEndpointSecrets, type SecretKeyRing, signingSecrets } from "./secrets";
import { signatureHeader } from "./signature";
import { checkWebhookUrl, type UrlCheck } from "./url";

const USER_AGENT = "Waystation-Webhooks/1";

/** What the sender needs from the worker: the guard's settings and the key ring. */
export interface SendPolicy {
  /** `WEBHOOK_ALLOW_PRIVATE=1`: http:// and private hosts allowed, nothing resolved. */
  allowPrivate: boolean;
  /** Resolves the host before each attempt; null when names are not resolved (see webhooks/dns.ts). */
  resolver: HostResolver | null;
  /** The keys that open the stored secrets; null when WEBHOOK_SECRET_KEY is missing. */
  keyRing(): Promise<SecretKeyRing | null>;
}

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

export async function sendAttempt(claim: Claim, policy: SendPolicy): Promise<AttemptResult> {
  const at = Date.now();
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const notSent = (error: DeliveryError, flags: Partial<AttemptResult>): AttemptResult => ({ at, status: null, error, retryAfterMs: null, durationMs: 0, ...flags });
  // Checked again at every attempt: an endpoint saved under WEBHOOK_ALLOW_PRIVATE=1 must not
  // reach a private address from a worker deployed without it.
  if (!checkUrl(claim.url, policy.allowPrivate).ok) return notSent(DeliveryError.BlockedAddress, { urlRefused: true });

  // Fail closed: without the key there is no secret, and a delivery never goes out unsigned.
  const ring = await policy.keyRing();
  const opened = ring === null ? null : await openEndpointSecrets(ring, claim.endpoint, claim.secrets, at);
  if (ring === null || opened === null || !opened.ok) return notSent(DeliveryError.SecretUnavailable, { secretUnavailable: true });
  // A secret stored in plain text (from before sealing) or under the previous key: sealed anew, written when recorded.
  const resealed = opened.stale ? { basis: claim.secrets, sealed: await sealEndpointSecrets(ring, claim.endpoint, opened.secrets, at) } : undefined;

  if (policy.resolver !== null) {
    // DNS can change between attempts (rebinding): every attempt looks again.
    const guarded = await guardWebhookUrl(claim.url, false, policy.resolver);
    if (!guarded.ok) {
      // A lookup that failed is an ordinary failed attempt (retried on schedule); a private answer refuses the URL.
      return guarded.reason === "unresolvable"
        ? { ...notSent(DeliveryError.DnsFailed, { resealed }), durationMs: elapsed() }
        : notSent(DeliveryError.BlockedAddress, { urlRefused: true, resealed });
    }
  }

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
        [WEBHOOK_SIGNATURE_HEADER]: await signatureHeader(signingSecrets(opened.secrets, at), claim.webhookId, timestamp, claim.payload),
      },
      body: claim.payload,
    });
    // We never need the answer's body; cancelling frees the connection at once.
    await response.body?.cancel().catch(() => {});
    const status = response.status;
    return {
      at,
      status,
      error: describeStatus(status),
      retryAfterMs: parseRetryAfterMs(response.headers.get("retry-after"), Date.now()),
      durationMs: elapsed(),
      resealed,
    };
  } catch (error) {
    return { at, status: null, error: describeError(error), retryAfterMs: null, durationMs: elapsed(), resealed };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Coarse on purpose: what the endpoint or the network said in detail (a redirect's target, an
 * exception's text) never reaches health, so the endpoint's health is no probe of other hosts.
 */
export function describeStatus(status: number): DeliveryError | null {
  if (status >= 200 && status < 300) return null;
  if (status >= 300 && status < 400) return DeliveryError.Redirect;
  return status >= 500 ? DeliveryError.Http5xx : DeliveryError.Http4xx;
}

export function describeError(error: unknown): DeliveryError {
  const name = error instanceof Error || error instanceof DOMException ? error.name : "";
  return name === "TimeoutError" || name === "AbortError" ? DeliveryError.Timeout : DeliveryError.ConnectionFailed;
}
