// How the Worker hands a WebSocket subscribe to the Station object: the upgrade request goes
// on (fetch, not RPC, carries a WebSocket) to an internal URL naming the checked group,
// consumer and initial credit. Both sides use these two functions and nothing else.

const SUBSCRIBE_URL = "https://station.internal/groups/subscribe";

export interface SubscribeTarget {
  group: string;
  consumer: string;
  credit: number;
}

/** The request the Worker sends the object, keeping the client's upgrade headers. */
export function subscribeRequest(original: Request, target: SubscribeTarget): Request {
  const url = new URL(SUBSCRIBE_URL);
  url.searchParams.set("group", target.group);
  url.searchParams.set("consumer", target.consumer);
  url.searchParams.set("credit", String(target.credit));
  return new Request(url.toString(), { method: "GET", headers: original.headers });
}

/** The target of a forwarded subscribe, or null if the request is not one. */
export function parseSubscribeRequest(request: Request): SubscribeTarget | null {
  const url = new URL(request.url);
  if (`${url.origin}${url.pathname}` !== SUBSCRIBE_URL) return null;
  const group = url.searchParams.get("group");
  const consumer = url.searchParams.get("consumer");
  const credit = Number(url.searchParams.get("credit") ?? "0");
  if (!group || !consumer || !Number.isSafeInteger(credit) || credit < 0) return null;
  return { group, consumer, credit };
}
