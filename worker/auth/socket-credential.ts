// What an open WebSocket keeps of the token that opened it: subject, expiry, rates and the
// fingerprint of the key that vouched for it. The Worker hands it to the Station object with
// the upgrade; the object keeps it in the socket's attachment (it survives hibernation) and
// checks it on every frame, before every push and at the alarm (docs/security.md).
import * as v from "valibot";
import { type Rates } from "../../shared/rate-limits";
import { SubjectSchema } from "../../shared/tokens";
import { SocketCloseCode } from "../../shared/websocket-auth";
import type { EnvVars } from "../env-vars";
import { keyFingerprint } from "./key-fingerprint";
import type { KeyKind, Principal } from "./principal";

/** The internal header that carries the credential from the Worker to the object. */
export const SOCKET_CREDENTIAL_HEADER = "waystation-socket-credential";

export interface SocketCredential {
  /** The token's subject: frames are rate-limited per subject, like requests. */
  sub: string;
  /** The token's `exp` in ms since the epoch; null for the admin token. */
  exp: number | null;
  key: KeyKind;
  /** keyFingerprint of the secret that vouched for the token when the socket opened. */
  fp: string;
  /** The subject's rates; null for the admin (limited per station only). */
  rates: Rates | null;
}

const positiveInt = v.pipe(v.number(), v.safeInteger(), v.minValue(1));
const SocketCredentialSchema = v.strictObject({
  sub: SubjectSchema,
  exp: v.nullable(positiveInt),
  key: v.picklist(["admin", "scoped"]),
  fp: v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/)),
  rates: v.nullable(v.strictObject({ requestsPerSecond: positiveInt, bytesPerSecond: positiveInt })),
});

/** The credential of the caller now upgrading. */
export async function socketCredentialOf(principal: Principal, env: EnvVars): Promise<SocketCredential> {
  return {
    sub: principal.subject,
    exp: principal.expiresAtMs,
    key: principal.keyKind,
    fp: await keyFingerprint(secretOf(principal.keyKind, env) ?? ""),
    rates: principal.rates,
  };
}

/** A copy of the client's upgrade request for the object, carrying the credential. */
export function withSocketCredential(request: Request, url: string, credential: SocketCredential): Request {
  const headers = new Headers(request.headers);
  headers.set(SOCKET_CREDENTIAL_HEADER, JSON.stringify(credential));
  return new Request(url, { method: "GET", headers });
}

/** The credential the Worker put on a forwarded upgrade, or null (then the object refuses it). */
export function socketCredentialFrom(request: Request): SocketCredential | null {
  const raw = request.headers.get(SOCKET_CREDENTIAL_HEADER);
  if (raw === null) return null;
  try {
    const parsed = v.safeParse(SocketCredentialSchema, JSON.parse(raw));
    return parsed.success ? parsed.output : null;
  } catch {
    return null;
  }
}

export type CredentialVerdict = { ok: true } | { ok: false; code: SocketCloseCode; reason: string };

/**
 * Whether a socket's token still holds at `nowMs` against this worker's current secrets: not
 * past `exp` (to the millisecond: a socket gets no clock-skew grace), and vouched for by the
 * key in force now. A socket with no credential (never expected) is treated as revoked.
 */
export async function checkSocketCredential(credential: SocketCredential | null | undefined, env: EnvVars, nowMs: number): Promise<CredentialVerdict> {
  if (!credential) return { ok: false, code: SocketCloseCode.TokenRevoked, reason: "token revoked" };
  if (credential.exp !== null && nowMs >= credential.exp) return { ok: false, code: SocketCloseCode.TokenExpired, reason: "token expired" };
  const secret = secretOf(credential.key, env);
  if (!secret || (await keyFingerprint(secret)) !== credential.fp) {
    return { ok: false, code: SocketCloseCode.TokenRevoked, reason: "token revoked: its key was rotated" };
  }
  return { ok: true };
}

function secretOf(kind: KeyKind, env: EnvVars): string | undefined {
  return kind === "admin" ? env.ADMIN_TOKEN : env.TOKEN_SIGNING_KEY;
}
