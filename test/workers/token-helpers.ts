// Scoped tokens for tests: minted locally with jose (as an app's backend would), forged,
// expired and alg-confused on purpose, or minted through `POST /v1/tokens`.
import { SignJWT, generateKeyPair } from "jose";
import { api } from "./helpers";

/** Same value as in vitest.config.mts (the worker's TOKEN_SIGNING_KEY binding). */
export const TOKEN_SIGNING_KEY = "test-token-signing-key-0123456789abcdefghij";

export type TestGrant = { stations: string[]; actions: string[] };

export interface TokenOptions {
  sub?: string;
  grants?: TestGrant[];
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number;
  key?: string;
  alg?: string;
  /** Extra or replacement claims. */
  claims?: Record<string, unknown>;
  omit?: string[];
}

const encoder = new TextEncoder();
let subjects = 0;

/** A fresh subject per call, so that per-subject rate limits of one test never touch another. */
export function uniqueSubject(prefix = "user"): string {
  subjects += 1;
  return `${prefix}-${Date.now().toString(36)}-${subjects}`;
}

/** Signs a token the way an app's backend would (HS256 with the shared secret). */
export async function signToken(options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sub: options.sub ?? uniqueSubject(),
    iat: now,
    exp: now + (options.expiresIn ?? 600),
    grants: options.grants ?? [{ stations: ["*"], actions: ["produce", "consume", "manage"] }],
    ...options.claims,
  };
  for (const name of options.omit ?? []) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .sign(encoder.encode(options.key ?? TOKEN_SIGNING_KEY));
}

export function grantToken(stations: string[], actions: string[], options: TokenOptions = {}): Promise<string> {
  return signToken({ ...options, grants: [{ stations, actions }] });
}

function base64url(value: unknown): string {
  const bytes = encoder.encode(typeof value === "string" ? value : JSON.stringify(value));
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** An unsigned token (`alg: none`) claiming everything. */
export function noneToken(payload: Record<string, unknown> = allAccessPayload()): string {
  return `${base64url({ alg: "none", typ: "JWT" })}.${base64url(payload)}.`;
}

/** A token signed with RS256 by a key pair the worker never saw. */
export async function rs256Token(payload: Record<string, unknown> = allAccessPayload()): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
}

/** A genuine token whose payload was swapped for a wider one, keeping the signature. */
export function tamper(token: string, payload: Record<string, unknown>): string {
  const [header, , signature] = token.split(".");
  return `${header}.${base64url(payload)}.${signature}`;
}

export function allAccessPayload(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { sub: "mallory", iat: now, exp: now + 600, grants: [{ stations: ["*"], actions: ["produce", "consume", "manage"] }] };
}

/** Mints through the API with the admin token. */
export async function mintViaApi(request: Record<string, unknown>) {
  return api("POST", "/v1/tokens", request);
}
