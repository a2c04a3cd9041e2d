// Helpers for the webhook suites: a programmable receiver standing in for the outbound fetch
// (the Station object runs in this isolate, so stubbing globalThis.fetch reaches it), and
// polling for a condition with a deadline (never a fixed sleep).
import { vi } from "vitest";
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
