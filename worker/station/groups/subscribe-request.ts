// How the Worker hands a WebSocket subscribe to the Station object: the upgrade request goes
// on (fetch, not RPC, carries a WebSocket) to an internal URL naming the checked group,
// consumer and initial credit, with the caller's socket credential (worker/auth/socket-credential.ts).
// Both sides use these two functions and nothing else.
import { type SocketCredential, socketCredentialFrom, withSocketCredential } from "../../auth/socket-credential";

const SUBSCRIBE_URL = "https://station.internal/groups/subscribe";

export interface SubscribeTarget {
  group: string;
  consumer: string;
  credit: number;
}

/** The request the Worker sends the object, keeping the client's upgrade headers. */
export function subscribeRequest(original: Request, target: SubscribeTarget, credential: SocketCredential): Request {
  const url = new URL(SUBSCRIBE_URL);
  url.searchParams.set("group", target.group);
  url.searchParams.set("consumer", target.consumer);
  url.searchParams.set("credit", String(target.credit));
  return withSocketCredential(original, url.toString(), credential);
}

/** The target of a forwarded subscribe (credential null if missing), or null if the request is not one. */
export function parseSubscribeRequest(request: Request): (SubscribeTarget & { credential: SocketCredential | null }) | null {
  const url = new URL(request.url);
  if (`${url.origin}${url.pathname}` !== SUBSCRIBE_URL) return null;
  const group = url.searchParams.get("group");
  const consumer = url.searchParams.get("consumer");
  const credit = Number(url.searchParams.get("credit") ?? "0");
  if (!group || !consumer || !Number.isSafeInteger(credit) || credit < 0) return null;
  return { group, consumer, credit, credential: socketCredentialFrom(request) };
}
