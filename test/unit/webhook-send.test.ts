// One delivery attempt as the sender makes it: checked again before it goes (the URL, and every
// address its host name resolves to, since DNS can change between attempts), never sent
// unsigned, and only coarse errors recorded (no exception text, no redirect target).
import { afterEach, describe, expect, it, vi } from "vitest";
import type { HostResolver } from "../../worker/station/webhooks/dns";
import type { Claim } from "../../worker/station/webhooks/queue";
import { loadKeyRing, sealEndpointSecrets } from "../../worker/station/webhooks/secrets";
import { sendAttempt, type SendPolicy } from "../../worker/station/webhooks/send";

const KEY = "unit-webhook-secret-key-0123456789abcdefghij";
const SECRET = "whsec_" + btoa("k".repeat(32));

async function claimFor(url: string, secret = SECRET): Promise<Claim> {
  const ring = (await loadKeyRing({ WEBHOOK_SECRET_KEY: KEY }))!;
  return {
    endpointId: 1,
    endpoint: "hook",
    offset: 1,
    attempt: 1,
    url,
    secrets: await sealEndpointSecrets(ring, "hook", { current: secret, previous: [] }, Date.now()),
    timeoutMs: 1000,
    leaseUntil: Date.now() + 6000,
    webhookId: "msg_s_1_1",
    payload: '{"offset":1}',
    content: { producer: null, seq: null, id: null, key: null, headers: null, body: "1", producedAt: 0, bytes: 1 },
  } as Claim;
}

const policy = (resolver: HostResolver | null, key: string | null = KEY): SendPolicy => ({
  allowPrivate: false,
  resolver,
  keyRing: () => loadKeyRing({ WEBHOOK_SECRET_KEY: key ?? undefined }),
});

const publicDns: HostResolver = async () => ({ ok: true, addresses: ["93.184.216.34"], aliases: [], ttlMs: 0 });

afterEach(() => vi.restoreAllMocks());

describe("sending one attempt", () => {
  it("refuses, before any fetch, a host that resolves to a private address now", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const rebound: HostResolver = async () => ({ ok: true, addresses: ["93.184.216.34", "169.254.169.254"], aliases: [], ttlMs: 0 });
    const result = await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(rebound));
    expect(result).toMatchObject({ status: null, error: "blocked address", urlRefused: true });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("fails the attempt (retried on schedule) when the lookup fails, with a coarse error", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const down: HostResolver = async () => ({ ok: false, failure: "failed" });
    const result = await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(down));
    expect(result).toMatchObject({ status: null, error: "dns lookup failed" });
    expect(result.urlRefused).toBeUndefined();
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("sends a signed POST when every address is public", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockResolvedValue(new Response(null, { status: 204 }));
    const result = await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(publicDns));
    expect(result).toMatchObject({ status: 204, error: null });
    const headers = new Headers(fetchSpy.mock.calls[0]![1]!.headers);
    expect(headers.get("webhook-signature")).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it("never sends unsigned: without WEBHOOK_SECRET_KEY, or with another key, nothing goes out", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    expect(await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(publicDns, null))).toMatchObject({
      status: null,
      error: "secret unavailable",
      secretUnavailable: true,
    });
    expect(await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(publicDns, "another-key-0123456789abcdefghijklmnop"))).toMatchObject({
      secretUnavailable: true,
    });
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("records coarse errors only: no exception text, no redirect target", async () => {
    const cases: [() => Promise<Response>, string][] = [
      [() => Promise.reject(new TypeError("connect ECONNREFUSED 203.0.113.9:6379 (internal detail)")), "connection failed"],
      [() => Promise.reject(new Error("TLS handshake failed: self-signed certificate for redis.internal")), "connection failed"],
      [() => Promise.resolve(new Response(null, { status: 302, headers: { location: "http://10.0.0.5:8500/v1/kv" } })), "redirect not followed"],
      [() => Promise.resolve(new Response("<h1>nginx internal error at 10.2.3.4</h1>", { status: 502 })), "http 5xx"],
      [() => Promise.resolve(new Response(null, { status: 404 })), "http 4xx"],
    ];
    for (const [answer, error] of cases) {
      vi.spyOn(globalThis, "fetch").mockImplementation(answer);
      const result = await sendAttempt(await claimFor("https://hooks.example.com/in"), policy(publicDns));
      expect(result.error).toBe(error);
    }
  });

  it("calls a timeout a timeout", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation((_input, init) => new Promise((_, reject) => init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason))));
    const claim = { ...(await claimFor("https://hooks.example.com/in")), timeoutMs: 30 };
    expect(await sendAttempt(claim, policy(publicDns))).toMatchObject({ status: null, error: "timeout" });
  });
});
