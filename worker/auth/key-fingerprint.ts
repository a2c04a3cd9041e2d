// A short fingerprint of a secret (TOKEN_SIGNING_KEY, ADMIN_TOKEN): kept with each open socket,
// so that rotating the secret — the documented way to revoke tokens — also closes the sockets
// those tokens opened. One-way (SHA-256) and truncated: the fingerprint never reveals the key.

const encoder = new TextEncoder();
/** Domain-separated, so the fingerprint is not a plain hash someone could look up. */
const CONTEXT = "waystation:key-fingerprint:v1:";
/** 8 bytes: a collision between an old and a new key is not a concern at 2^-64. */
const FINGERPRINT_BYTES = 8;

const cache = new Map<string, Promise<string>>();

/** The fingerprint of `secret`, computed once per isolate and secret. */
export function keyFingerprint(secret: string): Promise<string> {
  let fingerprint = cache.get(secret);
  if (!fingerprint) {
    fingerprint = crypto.subtle.digest("SHA-256", encoder.encode(CONTEXT + secret)).then((digest) => {
      let hex = "";
      for (const byte of new Uint8Array(digest).subarray(0, FINGERPRINT_BYTES)) hex += byte.toString(16).padStart(2, "0");
      return hex;
    });
    if (cache.size >= 4) cache.clear(); // a rotated secret replaces the old ones
    cache.set(secret, fingerprint);
  }
  return fingerprint;
}
