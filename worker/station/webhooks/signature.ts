// Standard Webhooks signing with WebCrypto: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
// keyed by the base64-decoded secret after `whsec_`. Several secrets (during a rotation) give
// several signatures, space-separated in one `webhook-signature` header, as the spec allows.
import { decodeBase64, encodeBase64 } from "../../../shared/binary";
import { GENERATED_SECRET_BYTES, WEBHOOK_SECRET_PREFIX } from "../../../shared/webhooks";

/** A fresh `whsec_…` secret of GENERATED_SECRET_BYTES random bytes. */
export function generateSecret(): string {
  return WEBHOOK_SECRET_PREFIX + encodeBase64(crypto.getRandomValues(new Uint8Array(GENERATED_SECRET_BYTES)));
}

/** Imported HMAC keys by secret: importKey is async work we need not repeat for every delivery. */
const keyCache = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 256;

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    const bytes = decodeBase64(secret.startsWith(WEBHOOK_SECRET_PREFIX) ? secret.slice(WEBHOOK_SECRET_PREFIX.length) : secret);
    if (bytes === null || bytes.length === 0) throw new Error("A stored webhook secret is not base64");
    key = crypto.subtle.importKey("raw", bytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(secret, key);
  }
  return key;
}

/** The `v1,<base64>` signature of one delivery under one secret. */
export async function signPayload(secret: string, id: string, timestampSeconds: number, body: string): Promise<string> {
  const data = new TextEncoder().encode(`${id}.${timestampSeconds}.${body}`);
  const mac = await crypto.subtle.sign("HMAC", await hmacKey(secret), data);
  return `v1,${encodeBase64(new Uint8Array(mac))}`;
}

/** The `webhook-signature` header value: one signature per secret, newest secret first. */
export async function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): Promise<string> {
  const signatures = await Promise.all(secrets.map((secret) => signPayload(secret, id, timestampSeconds, body)));
  return signatures.join(" ");
}
