// The webhook SSRF guard: what a deployed worker refuses (IP literals, internal names, names that
// spell a private address, names that resolve to one), and what WEBHOOK_ALLOW_PRIVATE=1 lets through.
import { describe, expect, it, vi } from "vitest";
import { cachingResolver, dohResolver, guardWebhookUrl, type HostResolver, type Resolution, resolvesWebhookHosts } from "../../worker/station/webhooks/dns";
import { checkWebhookUrl, isBlockedAddress } from "../../worker/station/webhooks/url";

const deployed = (url: string) => checkWebhookUrl(url, false);
const local = (url: string) => checkWebhookUrl(url, true);

describe("webhook URL guard", () => {
  it("accepts https:// URLs to public hosts when deployed", () => {
    expect(deployed("https://example.com/hooks?x=1")).toEqual({ ok: true, url: "https://example.com/hooks?x=1" });
    expect(deployed("https://8.8.8.8/h").ok).toBe(true);
    expect(deployed("https://[2606:4700::1111]/h").ok).toBe(true);
  });

  it("refuses http:// when deployed and allows it locally", () => {
    expect(deployed("http://example.com/")).toMatchObject({ ok: false, reason: "scheme" });
    expect(local("http://127.0.0.1:9999/hook").ok).toBe(true);
  });

  it("refuses other schemes even locally", () => {
    for (const url of ["ftp://example.com/", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,x"]) {
      expect(local(url)).toMatchObject({ ok: false });
    }
  });

  it("refuses malformed URLs, credentials and fragments", () => {
    expect(deployed("not a url")).toMatchObject({ ok: false, reason: "malformed" });
    expect(deployed("/relative")).toMatchObject({ ok: false, reason: "malformed" });
    expect(deployed("https://user:pw@example.com/")).toMatchObject({ ok: false, reason: "credentials" });
    expect(deployed("https://example.com/#x")).toMatchObject({ ok: false, reason: "fragment" });
  });

  it("refuses localhost and private, loopback, link-local and reserved IP literals when deployed", () => {
    const refused = [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f000001/",
      "https://0.0.0.0/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data",
      "https://100.64.0.1/",
      "https://198.18.0.1/",
      "https://224.0.0.1/",
      "https://255.255.255.255/",
      "https://[::1]/",
      "https://[::]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:10.0.0.1]/",
      "https://[64:ff9b::a9fe:a9fe]/",
      "https://[fd00::1]/",
      "https://[fe80::1]/",
      "https://[ff02::1]/",
      "https://[2001:db8::1]/",
      "https://[2002:7f00:1::]/",
    ];
    for (const url of refused) {
      const check = deployed(url);
      expect(check.ok, url).toBe(false);
    }
    expect(deployed("https://172.32.0.1/").ok).toBe(true);
    expect(deployed("https://[::ffff:8.8.8.8]/").ok).toBe(true);
  });

  it("lets loopback and private hosts through with WEBHOOK_ALLOW_PRIVATE=1", () => {
    expect(local("http://localhost:3000/").ok).toBe(true);
    expect(local("https://10.0.0.1/").ok).toBe(true);
  });
});

describe("webhook URL guard: names and translation prefixes", () => {
  it("refuses the NAT64, IPv4-translated and IPv4-compatible prefixes whatever IPv4 they carry", () => {
    for (const url of [
      "https://[64:ff9b:1::a00:1]/", // local-use NAT64 64:ff9b:1::/48
      "https://[64:ff9b:1:ffff::1]/",
      "https://[64:ff9b::8.8.8.8]/", // well-known NAT64 64:ff9b::/96, even of a public IPv4
      "https://[::ffff:0:10.0.0.1]/", // IPv4-translated ::ffff:0:0:0/96
      "https://[::ffff:0:8.8.8.8]/",
      "https://[::8.8.8.8]/", // IPv4-compatible (deprecated)
      "https://[2001::1]/", // Teredo (2001::/23)
      "https://[3fff::1]/", // documentation (RFC 9637)
      "https://[5f00::1]/", // SRv6 SIDs
    ]) {
      expect(deployed(url), url).toMatchObject({ ok: false, reason: "private_address" });
    }
    expect(deployed("https://[2606:4700::1111]/").ok).toBe(true);
  });

  it("refuses localhost, single-label names and internal suffixes", () => {
    for (const [url, reason] of [
      ["https://localhost.localdomain/", "internal_name"],
      ["https://metadata.google.internal/computeMetadata/v1/", "internal_name"],
      ["https://printer.local/", "internal_name"],
      ["https://nas.home.arpa/", "internal_name"],
      ["https://router.lan/", "internal_name"],
      ["https://git.corp./", "internal_name"],
      ["https://intranet/", "internal_name"],
      ["https://metadata/", "internal_name"],
      ["https://localdomain/", "internal_name"],
      ["https://a.b.localhost/", "localhost"],
      ["https://svc.test/", "internal_name"],
    ] as const) {
      expect(deployed(url), url).toMatchObject({ ok: false, reason });
    }
  });

  it("refuses names that spell a private address (nip.io, sslip.io and the like)", () => {
    for (const url of [
      "https://127.0.0.1.nip.io/",
      "https://10.0.0.1.sslip.io/",
      "https://app.192.168.1.10.nip.io/",
      "https://169.254.169.254.nip.io/latest/meta-data",
      "https://10-0-0-1.sslip.io/",
      "https://app-127-0-0-1.nip.io/",
      "https://1-10-0-0-1.nip.io/", // a window of four, not the first four
      "https://www-10.0.0.1.sslip.io/",
      "https://7f000001.nip.io/", // hex
      "https://app-0a000001.nip.io/",
      "https://--1.sslip.io/", // ::1
      "https://fe80--1.sslip.io/",
      "https://app-fd00--1.sslip.io/",
      "https://0.0.0.0.nip.io/",
    ]) {
      expect(deployed(url), url).toMatchObject({ ok: false, reason: "private_address" });
    }
  });

  it("lets through names that spell a public address, punycode and hex-looking public labels", () => {
    for (const url of [
      "https://8.8.8.8.nip.io/",
      "https://1-1-1-1.sslip.io/",
      "https://deadbeef.example.com/",
      "https://xn--bcher-kva.example/".replace(".example", ".de"),
      "https://api-v1-2-3.example.com/",
      "https://2606-4700--1111.sslip.io/",
    ]) {
      expect(deployed(url), url).toMatchObject({ ok: true });
    }
  });

  it("keeps allowing everything locally with WEBHOOK_ALLOW_PRIVATE=1", () => {
    for (const url of ["http://127.0.0.1.nip.io:8080/", "http://metadata.google.internal/", "http://[64:ff9b:1::1]/", "http://localhost.localdomain/"]) {
      expect(local(url).ok, url).toBe(true);
    }
  });

  it("judges addresses from DNS answers", () => {
    for (const address of ["127.0.0.1", "10.1.1.1", "169.254.169.254", "::1", "fd00::1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "64:ff9b:1::1", "FE80::1", "not-an-ip"]) {
      expect(isBlockedAddress(address), address).toBe(true);
    }
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) {
      expect(isBlockedAddress(address), address).toBe(false);
    }
  });
});

const answer = (addresses: string[], aliases: string[] = []): Resolution => ({ ok: true, addresses, aliases, ttlMs: 30_000 });
const resolverOf = (table: Record<string, Resolution>): HostResolver => async (host) => table[host] ?? { ok: false, failure: "nxdomain" };

describe("webhook URL guard: resolving names", () => {
  it("refuses a name whose A or AAAA records are private, even one of several", async () => {
    const resolver = resolverOf({
      "rebind.example.com": answer(["127.0.0.1"]),
      "v6.example.com": answer(["fd12::5"]),
      "mixed.example.com": answer(["93.184.216.34", "10.0.0.7"]),
      "mixed6.example.com": answer(["93.184.216.34", "2606:4700::1", "::1"]),
      "alias.example.com": answer(["93.184.216.34"], ["metadata.google.internal"]),
    });
    for (const host of ["rebind.example.com", "v6.example.com", "mixed.example.com", "mixed6.example.com", "alias.example.com"]) {
      expect(await guardWebhookUrl(`https://${host}/in`, false, resolver), host).toMatchObject({ ok: false, reason: "resolves_private" });
    }
  });

  it("allows a name whose every record is public", async () => {
    const resolver = resolverOf({ "hooks.example.com": answer(["93.184.216.34", "2606:2800:220:1::1"]) });
    expect(await guardWebhookUrl("https://hooks.example.com/in", false, resolver)).toEqual({ ok: true, url: "https://hooks.example.com/in" });
  });

  it("fails closed when the lookup fails, finds nothing or has no address", async () => {
    const failing: HostResolver = async () => ({ ok: false, failure: "failed" });
    expect(await guardWebhookUrl("https://hooks.example.com/", false, failing)).toMatchObject({ ok: false, reason: "unresolvable" });
    expect(await guardWebhookUrl("https://nx.example.com/", false, resolverOf({}))).toMatchObject({ ok: false, reason: "unresolvable" });
    const empty = resolverOf({ "empty.example.com": answer([]) });
    expect(await guardWebhookUrl("https://empty.example.com/", false, empty)).toMatchObject({ ok: false, reason: "unresolvable" });
    const throwing: HostResolver = () => Promise.reject(new Error("boom"));
    await expect(guardWebhookUrl("https://hooks.example.com/", false, throwing)).rejects.toThrow();
  });

  it("does not resolve IP literals, refused URLs, or anything under WEBHOOK_ALLOW_PRIVATE=1", async () => {
    const resolver = vi.fn(resolverOf({}));
    expect(await guardWebhookUrl("https://8.8.8.8/", false, resolver)).toMatchObject({ ok: true });
    expect(await guardWebhookUrl("https://127.0.0.1.nip.io/", false, resolver)).toMatchObject({ ok: false, reason: "private_address" });
    expect(await guardWebhookUrl("http://localhost:3000/", true, resolver)).toMatchObject({ ok: true });
    expect(resolver).not.toHaveBeenCalled();
  });

  it("resolves whenever the guard runs unless WEBHOOK_RESOLVE_DNS=0", () => {
    expect(resolvesWebhookHosts({})).toBe(true);
    expect(resolvesWebhookHosts({ WEBHOOK_RESOLVE_DNS: "1" })).toBe(true);
    expect(resolvesWebhookHosts({ WEBHOOK_RESOLVE_DNS: "0" })).toBe(false);
    expect(resolvesWebhookHosts({ WEBHOOK_ALLOW_PRIVATE: "1" })).toBe(false);
  });
});

describe("DNS over HTTPS resolver", () => {
  const doh = (byType: Record<string, unknown>, status = 200) =>
    vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      expect(url.origin + url.pathname).toBe("https://cloudflare-dns.com/dns-query");
      expect(new Headers(init?.headers).get("accept")).toBe("application/dns-json");
      const body = byType[url.searchParams.get("type")!];
      return new Response(JSON.stringify(body), { status });
    });

  it("asks for A and AAAA and returns every address and CNAME on the way", async () => {
    const fetcher = doh({
      A: { Status: 0, Answer: [{ type: 5, TTL: 300, data: "edge.example.net." }, { type: 1, TTL: 30, data: "93.184.216.34" }] },
      AAAA: { Status: 0, Answer: [{ type: 28, TTL: 60, data: "2606:2800:220:1::1" }] },
    });
    const resolution = await dohResolver({ fetcher })("hooks.example.com");
    expect(resolution).toEqual({ ok: true, addresses: ["93.184.216.34", "2606:2800:220:1::1"], aliases: ["edge.example.net"], ttlMs: 30_000 });
    expect(fetcher.mock.calls.map(([url]) => new URL(String(url)).searchParams.get("name"))).toEqual(["hooks.example.com", "hooks.example.com"]);
  });

  it("reports NXDOMAIN, and a failed lookup on SERVFAIL, a bad status, bad JSON or a network error", async () => {
    expect(await dohResolver({ fetcher: doh({ A: { Status: 3 }, AAAA: { Status: 3 } }) })("nx.example.com")).toEqual({ ok: false, failure: "nxdomain" });
    expect(await dohResolver({ fetcher: doh({ A: { Status: 2 }, AAAA: { Status: 0 } }) })("x.example.com")).toEqual({ ok: false, failure: "failed" });
    expect(await dohResolver({ fetcher: doh({ A: { Status: 0 }, AAAA: { Status: 0 } }, 502) })("x.example.com")).toEqual({ ok: false, failure: "failed" });
    const garbage = vi.fn(async () => new Response("<html>", { status: 200 }));
    expect(await dohResolver({ fetcher: garbage })("x.example.com")).toEqual({ ok: false, failure: "failed" });
    const offline = vi.fn(async () => Promise.reject(new TypeError("network down")));
    expect(await dohResolver({ fetcher: offline })("x.example.com")).toEqual({ ok: false, failure: "failed" });
  });

  it("gives up after its timeout", async () => {
    const hang = vi.fn((_: RequestInfo | URL, init?: RequestInit) => new Promise<Response>((_, reject) => init?.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")))));
    expect(await dohResolver({ fetcher: hang, timeoutMs: 20 })("slow.example.com")).toEqual({ ok: false, failure: "failed" });
  });

  it("caches answers for their TTL (at most a minute) and never caches failures", async () => {
    let now = 0;
    let next: Resolution = answer(["93.184.216.34"]);
    const inner = vi.fn(async () => next);
    const cached = cachingResolver(inner, () => now);
    await cached("a.example.com");
    await cached("a.example.com");
    expect(inner).toHaveBeenCalledTimes(1);
    now = 30_001; // past the 30 s TTL: asked again, and a rebinding answer is seen
    next = answer(["127.0.0.1"]);
    expect(await cached("a.example.com")).toMatchObject({ addresses: ["127.0.0.1"] });
    next = { ok: false, failure: "failed" };
    now = 70_000;
    await cached("a.example.com");
    await cached("a.example.com");
    expect(inner).toHaveBeenCalledTimes(4);
    next = { ok: true, addresses: ["8.8.8.8"], aliases: [], ttlMs: 0 };
    await cached("zero.example.com");
    await cached("zero.example.com");
    expect(inner).toHaveBeenCalledTimes(6);
  });
});
