// The SSRF guard for host names: resolves a webhook's host (DNS over HTTPS, JSON API) and
// refuses it unless every A and AAAA record is a public address. Runs at PUT and before every
// delivery (DNS can change: rebinding); a lookup that fails refuses too (fail closed).
import { checkWebhookUrl, embedsPrivateAddress, isBlockedAddress, isInternalName, isIpLiteral, normalHost, type UrlCheck } from "./url";

/** What a lookup found: the A/AAAA addresses and the CNAME targets on the way, or why not. */
export type Resolution =
  | { ok: true; addresses: string[]; aliases: string[]; ttlMs: number }
  | { ok: false; failure: "nxdomain" | "failed" };

/** Resolves one host name; injectable so tests (and a machine without internet) can answer. */
export type HostResolver = (host: string) => Promise<Resolution>;

/** Cloudflare's resolver; its JSON API takes `accept: application/dns-json`. */
export const DOH_URL = "https://cloudflare-dns.com/dns-query";
const DOH_TIMEOUT_MS = 5_000;
/** Answers are cached for their TTL, at most this long (a short TTL is how rebinding is tried). */
const MAX_CACHE_MS = 60_000;
const MAX_CACHED_HOSTS = 256;
const DNS_TYPE = { A: 1, CNAME: 5, AAAA: 28 } as const;

/** Whether names are resolved and checked: whenever the guard runs, unless `WEBHOOK_RESOLVE_DNS=0`. */
export function resolvesWebhookHosts(env: { WEBHOOK_ALLOW_PRIVATE?: string; WEBHOOK_RESOLVE_DNS?: string }): boolean {
  return env.WEBHOOK_ALLOW_PRIVATE !== "1" && env.WEBHOOK_RESOLVE_DNS !== "0";
}

let sharedResolver: HostResolver | null = null;

/** The resolver a worker uses: DNS over HTTPS through the global fetch, cached per isolate. */
export function defaultResolver(): HostResolver {
  sharedResolver ??= cachingResolver(dohResolver());
  return sharedResolver;
}

/** The resolver for this env, or null when names are not resolved (see resolvesWebhookHosts). */
export function resolverFor(env: { WEBHOOK_ALLOW_PRIVATE?: string; WEBHOOK_RESOLVE_DNS?: string }): HostResolver | null {
  return resolvesWebhookHosts(env) ? defaultResolver() : null;
}

/** The whole guard: the URL rules, then (with a resolver) every address its host name resolves to. */
export async function guardWebhookUrl(input: string, allowPrivate: boolean, resolver: HostResolver | null): Promise<UrlCheck> {
  const checked = checkWebhookUrl(input, allowPrivate);
  if (!checked.ok || allowPrivate || resolver === null) return checked;
  const host = normalHost(new URL(checked.url).hostname);
  if (isIpLiteral(host)) return checked;
  const resolution = await resolver(host);
  if (!resolution.ok) {
    return {
      ok: false,
      reason: "unresolvable",
      message: resolution.failure === "nxdomain" ? "url's host name does not resolve" : "url's host name could not be resolved now; try again",
    };
  }
  if (resolution.addresses.length === 0) return { ok: false, reason: "unresolvable", message: "url's host name has no A or AAAA record" };
  const blocked =
    resolution.addresses.some(isBlockedAddress) ||
    resolution.aliases.some((alias) => isInternalName(alias) || embedsPrivateAddress(alias) || alias === "localhost" || alias.endsWith(".localhost"));
  if (blocked) return { ok: false, reason: "resolves_private", message: "url's host name resolves to a private, loopback, link-local or reserved address" };
  return checked;
}

interface DohAnswer {
  Status?: number;
  Answer?: { type?: number; TTL?: number; data?: string }[];
}

/** DNS over HTTPS (RFC 8484's JSON flavour as Cloudflare and Google serve it): A and AAAA at once. */
export function dohResolver(options: { url?: string; fetcher?: typeof fetch; timeoutMs?: number } = {}): HostResolver {
  const url = options.url ?? DOH_URL;
  const timeoutMs = options.timeoutMs ?? DOH_TIMEOUT_MS;
  const query = async (host: string, type: "A" | "AAAA"): Promise<DohAnswer | null> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const fetcher = options.fetcher ?? fetch;
      const response = await fetcher(`${url}?name=${encodeURIComponent(host)}&type=${type}`, {
        headers: { accept: "application/dns-json" },
        signal: abort.signal,
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        return null;
      }
      const answer = (await response.json()) as DohAnswer;
      return typeof answer === "object" && answer !== null && typeof answer.Status === "number" ? answer : null;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  };
  return async (host) => {
    const [a, aaaa] = await Promise.all([query(host, "A"), query(host, "AAAA")]);
    if (a === null || aaaa === null) return { ok: false, failure: "failed" };
    // 0 NOERROR, 3 NXDOMAIN; anything else (SERVFAIL, REFUSED…) is a failed lookup.
    if (![0, 3].includes(a.Status!) || ![0, 3].includes(aaaa.Status!)) return { ok: false, failure: "failed" };
    if (a.Status === 3 && aaaa.Status === 3) return { ok: false, failure: "nxdomain" };
    const records = [...(a.Answer ?? []), ...(aaaa.Answer ?? [])];
    const addresses: string[] = [];
    const aliases: string[] = [];
    let ttlMs = MAX_CACHE_MS;
    for (const record of records) {
      if (typeof record.data !== "string") continue;
      if (record.type === DNS_TYPE.A || record.type === DNS_TYPE.AAAA) addresses.push(record.data);
      else if (record.type === DNS_TYPE.CNAME) aliases.push(normalHost(record.data));
      else continue;
      ttlMs = Math.min(ttlMs, Math.max(0, (record.TTL ?? 0) * 1000));
    }
    return { ok: true, addresses, aliases, ttlMs };
  };
}

/** Keeps successful answers for their TTL (capped); failures are never cached. */
export function cachingResolver(inner: HostResolver, now: () => number = Date.now): HostResolver {
  const cache = new Map<string, { until: number; resolution: Resolution }>();
  return async (host) => {
    const hit = cache.get(host);
    if (hit && hit.until > now()) return hit.resolution;
    const resolution = await inner(host);
    if (resolution.ok && resolution.ttlMs > 0) {
      if (cache.size >= MAX_CACHED_HOSTS) cache.clear();
      cache.set(host, { until: now() + Math.min(resolution.ttlMs, MAX_CACHE_MS), resolution });
    } else {
      cache.delete(host);
    }
    return resolution;
  };
}
