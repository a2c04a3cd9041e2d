// Webhook signing secrets at rest: sealed with AES-256-GCM (WebCrypto) under the worker secret
// WEBHOOK_SECRET_KEY, still opened with WEBHOOK_SECRET_KEY_PREVIOUS during a key rotation; and
// the endpoint's secret set (current + rotated-out ones in their grace). No SQL, no HTTP here.
import { decodeBase64, encodeBase64 } from "../../../shared/binary";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { MAX_PREVIOUS_SECRETS, WEBHOOK_SECRET_PREFIX } from "../../../shared/webhooks";

/** A sealed value: `wsk1:<key id>:<base64 IV>:<base64 ciphertext and tag>`. */
const SEALED_PREFIX = "wsk1:";
/** A shorter WEBHOOK_SECRET_KEY counts as missing (fail closed): it is a key, not a password. */
export const MIN_SECRET_KEY_LENGTH = 32;
const IV_BYTES = 12;
const encoder = new TextEncoder();

export interface SecretKeyEnv {
  WEBHOOK_SECRET_KEY?: string;
  WEBHOOK_SECRET_KEY_PREVIOUS?: string;
}

interface SealingKey {
  /** Derived from the key (HKDF, its own label): names the key in each ciphertext, reveals nothing of it. */
  id: string;
  key: CryptoKey;
}

/** The key that seals, and the one still opened during a key rotation. */
export interface SecretKeyRing {
  current: SealingKey;
  previous: SealingKey | null;
}

/** Why the env cannot seal secrets, or null when it can. */
export function secretKeyProblem(env: SecretKeyEnv): string | null {
  const key = env.WEBHOOK_SECRET_KEY;
  if (!key) return "WEBHOOK_SECRET_KEY is not set: webhook secrets cannot be stored or used";
  if (key.length < MIN_SECRET_KEY_LENGTH) return `WEBHOOK_SECRET_KEY must be at least ${MIN_SECRET_KEY_LENGTH} characters`;
  return null;
}

const rings = new Map<string, Promise<SecretKeyRing>>();

/** The key ring of this env (derived once per isolate), or null when WEBHOOK_SECRET_KEY is missing. */
export async function loadKeyRing(env: SecretKeyEnv): Promise<SecretKeyRing | null> {
  if (secretKeyProblem(env) !== null) return null;
  const current = env.WEBHOOK_SECRET_KEY!;
  const previous = env.WEBHOOK_SECRET_KEY_PREVIOUS && env.WEBHOOK_SECRET_KEY_PREVIOUS !== current ? env.WEBHOOK_SECRET_KEY_PREVIOUS : null;
  const cacheKey = JSON.stringify([current, previous]);
  let ring = rings.get(cacheKey);
  if (!ring) {
    ring = (async () => ({ current: await deriveKey(current), previous: previous === null ? null : await deriveKey(previous) }))();
    if (rings.size >= 8) rings.clear();
    rings.set(cacheKey, ring);
  }
  return ring;
}

async function deriveKey(material: string): Promise<SealingKey> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(material), "HKDF", false, ["deriveKey", "deriveBits"]);
  const hkdf = (info: string) => ({ name: "HKDF", hash: "SHA-256", salt: encoder.encode("waystation webhook secrets"), info: encoder.encode(info) });
  const key = await crypto.subtle.deriveKey(hkdf("aes-256-gcm v1"), base, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const idBits = new Uint8Array(await crypto.subtle.deriveBits(hkdf("key id v1"), base, 64));
  return { id: Array.from(idBits, (b) => b.toString(16).padStart(2, "0")).join(""), key };
}

/** Seals `plaintext` under the current key; `context` (the endpoint and the column) is bound as additional data. */
export async function seal(ring: SecretKeyRing, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, ring.current.key, encoder.encode(plaintext));
  return `${SEALED_PREFIX}${ring.current.id}:${encodeBase64(iv)}:${encodeBase64(new Uint8Array(sealed))}`;
}

/** A stored value opened; `stale` when it should be sealed again (plain text from before, or an older key). */
export type Opened = { ok: true; plaintext: string; stale: boolean } | { ok: false };

export async function open(ring: SecretKeyRing, stored: string, context: string): Promise<Opened> {
  // Rows written before secrets were sealed hold the secret itself (always `whsec_…`).
  if (stored.startsWith(WEBHOOK_SECRET_PREFIX)) return { ok: true, plaintext: stored, stale: true };
  if (!stored.startsWith(SEALED_PREFIX)) return { ok: false };
  const [id, ivText, dataText] = stored.slice(SEALED_PREFIX.length).split(":");
  const key = [ring.current, ring.previous].find((candidate) => candidate !== null && candidate.id === id);
  const iv = ivText === undefined ? null : decodeBase64(ivText);
  const data = dataText === undefined ? null : decodeBase64(dataText);
  if (!key || iv === null || data === null) return { ok: false };
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv, additionalData: encoder.encode(context) }, key.key, data);
    return { ok: true, plaintext: new TextDecoder().decode(plain), stale: key !== ring.current };
  } catch {
    return { ok: false }; // wrong key or tampered: the tag does not verify
  }
}

/** The three secret columns of a `webhooks` row. */
export interface SecretColumns {
  secret: string;
  /** Sealed: JSON `[{"sealed", "expiresAt"}…]`, newest first. From before: one plain `whsec_…`. */
  previous_secret: string | null;
  /** When the last rotated-out secret stops signing. */
  previous_secret_expires_at: number | null;
}

/** An endpoint's secrets in the clear: the current one and rotated-out ones in their grace, newest first. */
export interface EndpointSecrets {
  current: string;
  previous: { secret: string; expiresAt: number }[];
}

interface SealedPrevious {
  sealed: string;
  expiresAt: number;
}

const currentContext = (endpoint: string) => `webhook ${endpoint} secret`;
const previousContext = (endpoint: string) => `webhook ${endpoint} previous secret`;

/** When each rotated-out secret stops signing, newest rotation first (no key needed). */
export function previousExpiries(columns: SecretColumns, now: number): number[] {
  return previousEntries(columns)
    .map((entry) => entry.expiresAt)
    .filter((expiresAt) => expiresAt > now);
}

function previousEntries(columns: SecretColumns): SealedPrevious[] {
  const stored = columns.previous_secret;
  if (stored === null) return [];
  if (!stored.startsWith("[")) return columns.previous_secret_expires_at === null ? [] : [{ sealed: stored, expiresAt: columns.previous_secret_expires_at }];
  return JSON.parse(stored) as SealedPrevious[];
}

/** Opens an endpoint's secrets; `stale` when any of them should be sealed again under the current key. */
export async function openEndpointSecrets(
  ring: SecretKeyRing,
  endpoint: string,
  columns: SecretColumns,
  now: number,
): Promise<{ ok: true; secrets: EndpointSecrets; stale: boolean } | { ok: false }> {
  const current = await open(ring, columns.secret, currentContext(endpoint));
  if (!current.ok) return { ok: false };
  let stale = current.stale;
  const previous: EndpointSecrets["previous"] = [];
  for (const entry of previousEntries(columns)) {
    if (entry.expiresAt <= now) continue; // its grace is over: it neither signs nor needs opening
    const opened = await open(ring, entry.sealed, previousContext(endpoint));
    if (!opened.ok) return { ok: false };
    stale ||= opened.stale;
    previous.push({ secret: opened.plaintext, expiresAt: entry.expiresAt });
  }
  return { ok: true, secrets: { current: current.plaintext, previous }, stale };
}

/** Seals an endpoint's secrets for storage; secrets past their grace are left out. */
export async function sealEndpointSecrets(ring: SecretKeyRing, endpoint: string, secrets: EndpointSecrets, now: number): Promise<SecretColumns> {
  const live = secrets.previous.filter((entry) => entry.expiresAt > now);
  const previous: SealedPrevious[] = [];
  for (const entry of live) previous.push({ sealed: await seal(ring, entry.secret, previousContext(endpoint)), expiresAt: entry.expiresAt });
  return {
    secret: await seal(ring, secrets.current, currentContext(endpoint)),
    previous_secret: previous.length > 0 ? JSON.stringify(previous) : null,
    previous_secret_expires_at: previous.length > 0 ? Math.max(...previous.map((entry) => entry.expiresAt)) : null,
  };
}

/** The secrets that sign a delivery at `now`: the current one first, then each rotated-out one still in grace. */
export function signingSecrets(secrets: EndpointSecrets, now: number): string[] {
  return [secrets.current, ...secrets.previous.filter((entry) => entry.expiresAt > now).map((entry) => entry.secret)];
}

/**
 * A PUT with a new signing secret. The outgoing one keeps signing for `graceMs`, and so do
 * earlier ones still in their grace: a second rotation never drops the first old secret. At
 * most MAX_PREVIOUS_SECRETS are in grace at once; a rotation that would need one more is
 * refused (`secret_rotation_limit`) rather than silently ending one. `graceMs` 0 is an
 * emergency rotation: the new secret alone signs from now on (every old one ends).
 */
export function rotateSecrets(secrets: EndpointSecrets, next: string, graceMs: number, now: number): Result<EndpointSecrets> {
  if (next === secrets.current) return ok(secrets);
  if (graceMs === 0) return ok({ current: next, previous: [] });
  const live = secrets.previous.filter((entry) => entry.expiresAt > now && entry.secret !== next);
  if (live.length >= MAX_PREVIOUS_SECRETS) {
    const frees = Math.min(...live.map((entry) => entry.expiresAt));
    return fail(
      ErrorCode.SecretRotationLimit,
      `${live.length} rotated-out secrets still sign within their grace (at most ${MAX_PREVIOUS_SECRETS}); rotate again after the oldest expires, or with rotationGraceMs 0 to end every old secret now`,
      { max: MAX_PREVIOUS_SECRETS, retryAt: frees },
    );
  }
  return ok({ current: next, previous: [{ secret: secrets.current, expiresAt: now + graceMs }, ...live] });
}
