// Helpers for the webhook suites: a programmable receiver standing in for the outbound fetch
// (the Station object runs in this isolate, so stubbing globalThis.fetch reaches it), DNS over
// HTTPS answers for it, a look at the stored endpoint row, and polling for a condition with a
// deadline (never a fixed sleep).
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { DOH_URL } from "../../worker/station/webhooks";
import { api } from "./helpers";

export interface ReceivedCall {
  url: string;
  headers: Record<string, string>;
  body: string;
  json: any;
  /** Date.now() when the receiver saw it. */
  at: number;
  redirect: string | undefined;
}

export type Reply = Response | ((call: ReceivedCall) => Response | Promise<Response>);

export interface Receiver {
  calls: ReceivedCall[];
  /** Answers every call (default 204). */
  reply(handler: (call: ReceivedCall, index: number) => Response | Promise<Response>): void;
  callsTo(url: string): ReceivedCall[];
  restore(): void;
}

/** Replaces the outbound fetch with a receiver that records every call. */
export function mockReceiver(): Receiver {
  const calls: ReceivedCall[] = [];
  let handler: (call: ReceivedCall, index: number) => Response | Promise<Response> = () => new Response(null, { status: 204 });
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    const body = await request.text();
    const headers: Record<string, string> = {};
    request.headers.forEach((value, key) => (headers[key] = value));
    let json: unknown = null;
    try {
      json = JSON.parse(body);
    } catch {}
    const call: ReceivedCall = { url: request.url, headers, body, json, at: Date.now(), redirect: init?.redirect };
    calls.push(call);
    const answer = Promise.resolve(handler(call, calls.length - 1));
    const signal = init?.signal;
    if (!signal) return answer;
    // Like a real fetch: an abort (the sender's timeout) rejects with the signal's reason.
    return Promise.race([
      answer,
      new Promise<Response>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
  });
  return {
    calls,
    reply: (next) => (handler = next),
    callsTo: (url) => calls.filter((c) => c.url === url),
    restore: () => spy.mockRestore(),
  };
}

/** Polls `check` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function putWebhook(station: string, name: string, body: unknown) {
  return api("PUT", `/v1/stations/${station}/webhooks/${name}`, body);
}

export async function getWebhook(station: string, name: string) {
  const res = await api("GET", `/v1/stations/${station}/webhooks/${name}`);
  if (res.status !== 200) throw new Error(`GET webhook ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export function headersOf(call: ReceivedCall) {
  return {
    "webhook-id": call.headers["webhook-id"]!,
    "webhook-timestamp": call.headers["webhook-timestamp"]!,
    "webhook-signature": call.headers["webhook-signature"]!,
  };
}

/**
 * The DNS-over-HTTPS answer for a call to the resolver, from `table` (host → addresses; a host
 * not in it is NXDOMAIN, `"fail"` a SERVFAIL), or null when the call is not a DNS query.
 */
export function dohReply(call: ReceivedCall, table: Record<string, string[] | "fail">): Response | null {
  if (!call.url.startsWith(`${DOH_URL}?`)) return null;
  const query = new URL(call.url).searchParams;
  const type = query.get("type") === "AAAA" ? 28 : 1;
  const entry = table[query.get("name")!];
  if (entry === "fail") return Response.json({ Status: 2 });
  if (entry === undefined) return Response.json({ Status: 3 });
  const answers = entry.filter((address) => (type === 28) === address.includes(":")).map((data) => ({ type, TTL: 0, data }));
  return Response.json({ Status: 0, Answer: answers });
}

/** The endpoint's row as the station stores it (secrets and health), read inside the object. */
export async function storedEndpoint(station: string, name: string): Promise<Record<string, any>> {
  const { runInDurableObject } = await import("cloudflare:test");
  const stub = env.STATION.get(env.STATION.idFromName(station));
  return runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("SELECT * FROM webhooks WHERE name = ?", name).toArray()[0] as Record<string, any>);
}

/** Overwrites the endpoint's secret columns inside the object (rows from before sealing, other keys). */
export async function writeEndpointSecrets(station: string, name: string, columns: { secret: string; previous_secret: string | null; previous_secret_expires_at: number | null }): Promise<void> {
  const { runInDurableObject } = await import("cloudflare:test");
  const stub = env.STATION.get(env.STATION.idFromName(station));
  await runInDurableObject(stub, (_instance, state) => {
    state.storage.sql.exec(
      "UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_expires_at = ? WHERE name = ?",
      columns.secret,
      columns.previous_secret,
      columns.previous_secret_expires_at,
      name,
    );
  });
}
