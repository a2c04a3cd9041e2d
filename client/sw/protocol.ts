// What the page and the sync service worker say to each other: the sync tags, the messages a
// page posts (configure, forget, sync) and the outbox registration the service worker keeps.
import { WaystationError } from "../errors";

/** The Background Sync tag the page registers whenever actions are pending. */
export const SYNC_TAG = "waystation-sync";
/** The Periodic Background Sync tag, registered only where the browser granted the permission. */
export const PERIODIC_SYNC_TAG = "waystation-periodic-sync";

/**
 * One outbox the service worker syncs: the IndexedDB database a page's client uses and the
 * server it syncs to (absolute, no trailing slash, as createClient keys its streams), and how
 * the service worker gets a token: a fixed `token`, or a `tokenUrl` it fetches with the
 * browser's cookies (the app's own token endpoint; asked again on a 401).
 */
export interface OutboxRegistration {
  url: string;
  dbName: string;
  token?: string;
  tokenUrl?: string;
}

export type PageMessage =
  | { type: "waystation:configure"; outbox: OutboxRegistration }
  | { type: "waystation:forget"; url: string; dbName: string }
  | { type: "waystation:sync" };

/** The service worker's answer on the message's port. */
export type WorkerReply = { ok: true } | { ok: false; error: { code: string; message: string } };

/** The key of an outbox among the service worker's registrations (and of its lock). */
export function outboxKey(dbName: string, url: string): string {
  return `${dbName} ${url}`;
}

/** The server URL as createClient keys it: absolute, without a trailing slash. */
export function normalizeUrl(url: string, base?: string): string {
  return absolute(url, base).replace(/\/+$/, "");
}

function absolute(url: string, base?: string): string {
  try {
    return new URL(url, base).href;
  } catch {
    throw new WaystationError("invalid_request", `Not a URL: ${url}`);
  }
}

/** Checks what a page posted: a registration the service worker can act on, or a coded error. */
export function checkRegistration(value: unknown, base?: string): OutboxRegistration {
  const v = (value ?? {}) as Partial<Record<keyof OutboxRegistration, unknown>>;
  if (typeof v.url !== "string" || v.url === "") throw new WaystationError("invalid_request", "The service worker needs the server's url");
  const dbName = v.dbName ?? "waystation";
  if (typeof dbName !== "string" || dbName === "") throw new WaystationError("invalid_request", "dbName must be a non-empty string");
  if (v.token !== undefined && typeof v.token !== "string") throw new WaystationError("invalid_request", "token must be a string");
  if (v.tokenUrl !== undefined && typeof v.tokenUrl !== "string") throw new WaystationError("invalid_request", "tokenUrl must be a string");
  if (v.token === undefined && v.tokenUrl === undefined) throw new WaystationError("invalid_request", "The service worker needs a token or a tokenUrl");
  const outbox: OutboxRegistration = { url: normalizeUrl(v.url, base), dbName };
  if (v.token !== undefined) outbox.token = v.token;
  if (v.tokenUrl !== undefined) outbox.tokenUrl = absolute(v.tokenUrl, base);
  return outbox;
}
