// The SSRF guard for webhook URLs, the part that needs no network: deployed, only https:// to
// public hosts — no credentials, no IP literal outside public unicast, no internal or reserved
// name, no name that spells a private IP (nip.io style). `WEBHOOK_ALLOW_PRIVATE=1` (local dev
// and tests only) also allows http:// and any host. Names are resolved in webhooks/dns.ts.

export type UrlRefusal =
  | "malformed"
  | "scheme"
  | "credentials"
  | "localhost"
  | "internal_name"
  | "private_address"
  | "resolves_private"
  | "unresolvable"
  | "fragment";

export type UrlCheck = { ok: true; url: string } | { ok: false; reason: UrlRefusal; message: string };

/** Whether the env lets endpoints be http:// and private (exactly "1", nothing looser). */
export function allowsPrivateWebhooks(env: { WEBHOOK_ALLOW_PRIVATE?: string }): boolean {
  return env.WEBHOOK_ALLOW_PRIVATE === "1";
}

export function checkWebhookUrl(input: string, allowPrivate: boolean): UrlCheck {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return refuse("malformed", "url is not an absolute URL");
  }
  const scheme = url.protocol;
  if (scheme !== "https:" && !(allowPrivate && scheme === "http:")) {
    return refuse("scheme", allowPrivate ? "url must be http:// or https://" : "url must be https://");
  }
  if (url.username || url.password) return refuse("credentials", "url may not hold a user name or password");
  if (url.hash) return refuse("fragment", "url may not hold a #fragment");
  if (!allowPrivate) {
    const host = normalHost(url.hostname);
    if (host === "localhost" || host.endsWith(".localhost")) return refuse("localhost", "url may not point at localhost");
    if (isIpLiteral(host)) {
      if (isPrivateHost(host)) return refuse("private_address", "url may not point at a private, loopback, link-local or reserved address");
    } else {
      if (isInternalName(host)) return refuse("internal_name", "url may not name an internal host (a single label or a reserved suffix such as .internal, .local, .localdomain, .home.arpa)");
      if (embedsPrivateAddress(host)) return refuse("private_address", "url may not name a host that spells a private or reserved address (nip.io style)");
    }
  }
  return { ok: true, url: url.href };
}

/** The host as compared: lower case, without trailing dots (`localhost.` is `localhost`). */
export function normalHost(hostname: string): string {
  return hostname.toLowerCase().replace(/\.+$/, "");
}

/** An IP literal as the WHATWG URL parser leaves it: `[v6]` or dotted-decimal IPv4. */
export function isIpLiteral(host: string): boolean {
  return (host.startsWith("[") && host.endsWith("]")) || parseIpv4(host) !== null;
}

/** True for an IP literal (as the WHATWG parser normalised it) that is not a public unicast address. */
export function isPrivateHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isPrivateIpv6(host.slice(1, -1));
  const v4 = parseIpv4(host);
  return v4 !== null && isPrivateIpv4(v4);
}

/**
 * True for an address from a DNS answer (`1.2.3.4` or `2606:4700::1111`, no brackets) that is
 * not public unicast. Anything that does not parse as an address counts as blocked.
 */
export function isBlockedAddress(address: string): boolean {
  if (address.includes(":")) return isPrivateIpv6(address.toLowerCase());
  const v4 = parseIpv4(address);
  return v4 === null || isPrivateIpv4(v4);
}

/**
 * Suffixes that never name a public host: RFC 6761/6762 special-use names, RFC 8375's home
 * network, ICANN's `.internal` (cloud metadata: `metadata.google.internal`) and the private
 * top-level names RFC 6762 appendix G lists as in common use.
 */
const INTERNAL_SUFFIXES = [
  "localdomain",
  "internal",
  "local",
  "home.arpa",
  "intranet",
  "private",
  "corp",
  "home",
  "lan",
  "test",
  "invalid",
  "example",
  "onion",
  "alt",
];

/** A single-label name (resolved through a search domain, never a public host) or one under an internal suffix. */
export function isInternalName(host: string): boolean {
  if (!host.includes(".")) return true;
  return INTERNAL_SUFFIXES.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

/**
 * True when the name spells a private address the way wildcard-DNS services (nip.io, sslip.io,
 * xip.io, traefik.me, …) decode it, whatever domain follows. The name is cut at dots and dashes
 * into tokens; blocked are: four decimal tokens in a row that make a private or reserved IPv4
 * (`10.0.0.1.nip.io`, `10-0-0-1.sslip.io`, `app-127-0-0-1.nip.io`, `www-10.0.0.1.sslip.io`), an
 * eight-hex-digit token that makes a loopback, private, link-local, shared or "this network"
 * IPv4 (`7f000001.nip.io`, `app-0a000001.nip.io`), and an IPv6 address written with dashes for
 * colons (`--1.sslip.io` is ::1, `fd00--1.sslip.io`). A name that spells a public address is
 * left alone: it resolves where it says. Hex is judged on the narrower set because random hex
 * labels (preview deployments, hashes) are common and 224/4 or 240/4 reach nothing.
 */
export function embedsPrivateAddress(host: string): boolean {
  const tokens = host.split(/[.-]/);
  for (let i = 0; i + 4 <= tokens.length; i++) {
    const window = tokens.slice(i, i + 4);
    if (!window.every((token) => /^\d{1,3}$/.test(token))) continue;
    const v4 = parseIpv4(window.join("."));
    if (v4 !== null && isPrivateIpv4(v4)) return true;
  }
  for (const token of tokens) {
    if (/^[0-9a-f]{8}$/.test(token) && isReachablePrivateIpv4(parseInt(token, 16) >>> 0)) return true;
  }
  return host.split(".").some(spellsPrivateIpv6);
}

/** sslip.io's IPv6 form: a label, or its tail after a dash, that parses with dashes read as colons. */
function spellsPrivateIpv6(label: string): boolean {
  const dashes = label.split("-").length - 1;
  if (!label.includes("--") && dashes < 7) return false;
  const parts = label.split("-");
  for (let i = 0; i < parts.length; i++) {
    const words = parseIpv6(parts.slice(i).join(":"));
    if (words !== null) return isPrivateIpv6Words(words);
  }
  return false;
}

/** Ranges that are not public unicast (RFC 6890 special-purpose registry, plus multicast). */
const IPV4_BLOCKED: readonly [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8 "this network"
  [0x0a000000, 8], // 10/8 private
  [0x64400000, 10], // 100.64/10 shared (CGNAT)
  [0x7f000000, 8], // 127/8 loopback
  [0xa9fe0000, 16], // 169.254/16 link-local (cloud metadata lives here)
  [0xac100000, 12], // 172.16/12 private
  [0xc0000000, 24], // 192.0.0/24 IETF protocol assignments
  [0xc0000200, 24], // 192.0.2/24 TEST-NET-1
  [0xc0586300, 24], // 192.88.99/24 6to4 relay
  [0xc0a80000, 16], // 192.168/16 private
  [0xc6120000, 15], // 198.18/15 benchmarking
  [0xc6336400, 24], // 198.51.100/24 TEST-NET-2
  [0xcb007100, 24], // 203.0.113/24 TEST-NET-3
  [0xe0000000, 4], // 224/4 multicast
  [0xf0000000, 4], // 240/4 reserved, and broadcast
];

/** The ranges a host on a private network actually answers on (for the hex rule above). */
const IPV4_REACHABLE_PRIVATE = IPV4_BLOCKED.filter(([base]) => [0x00000000, 0x0a000000, 0x64400000, 0x7f000000, 0xa9fe0000, 0xac100000, 0xc0a80000].includes(base));

function inRanges(address: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([base, bits]) => (address >>> (32 - bits)) === (base >>> (32 - bits)));
}

function isPrivateIpv4(address: number): boolean {
  return inRanges(address, IPV4_BLOCKED);
}

function isReachablePrivateIpv4(address: number): boolean {
  return inRanges(address, IPV4_REACHABLE_PRIVATE);
}

function parseIpv4(host: string): number | null {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!match) return null;
  const parts = match.slice(1).map(Number);
  if (parts.some((part) => part > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function isPrivateIpv6(text: string): boolean {
  const words = parseIpv6(text);
  return words === null || isPrivateIpv6Words(words); // unparsable: refuse rather than guess
}

/**
 * IPv6 that is not public unicast. Transition forms that reach IPv4 through a translator are
 * refused outright (a translator near the worker turns them into any IPv4, private included):
 * IPv4-compatible `::/96`, IPv4-translated `::ffff:0:0:0/96` (SIIT), NAT64 `64:ff9b::/96` and
 * the local-use NAT64 `64:ff9b:1::/48`. IPv4-mapped `::ffff:a.b.c.d` and 6to4 `2002::/16` are
 * judged by the IPv4 inside.
 */
function isPrivateIpv6Words(words: number[]): boolean {
  const all0 = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  const first = words[0]!;
  if (all0(0, 6)) return true; // ::/96: unspecified, loopback, IPv4-compatible (deprecated)
  if (all0(0, 5) && words[5] === 0xffff) return isPrivateIpv4(((words[6]! << 16) | words[7]!) >>> 0); // ::ffff:a.b.c.d mapped
  if (all0(0, 4) && words[4] === 0xffff && words[5] === 0) return true; // ::ffff:0:a.b.c.d translated (RFC 2765)
  if (first === 0x64 && words[1] === 0xff9b && (all0(2, 6) || words[2] === 1)) return true; // NAT64 (RFC 6052, RFC 8215)
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  if (first === 0x2001 && words[1]! < 0x0200) return true; // 2001::/23 IETF protocol assignments (Teredo, ORCHID, benchmarking)
  if (first === 0x2001 && words[1] === 0x0db8) return true; // 2001:db8::/32 documentation
  if (first === 0x3fff && (words[1]! & 0xf000) === 0) return true; // 3fff::/20 documentation (RFC 9637)
  if (first === 0x5f00) return true; // 5f00::/16 segment routing SIDs (RFC 9602)
  if (first === 0x0100 && all0(1, 4)) return true; // 100::/64 discard
  if (first === 0x2002) return isPrivateIpv4(((words[1]! << 16) | words[2]!) >>> 0); // 6to4
  return false;
}

/** Eight 16-bit words of an IPv6 address (the URL parser already normalised it), or null. */
function parseIpv6(text: string): number[] | null {
  let head = text;
  let tail: number[] = [];
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const address = parseIpv4(v4[2]!);
    if (address === null) return null;
    head = v4[1]!.endsWith("::") ? v4[1]! : v4[1]!.slice(0, -1);
    tail = [address >>> 16, address & 0xffff];
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const toWords = (part: string) => (part === "" ? [] : part.split(":").map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN)));
  const left = toWords(halves[0]!);
  const right = halves.length === 2 ? toWords(halves[1]!) : [];
  const known = left.length + right.length + tail.length;
  if ([...left, ...right].some(Number.isNaN)) return null;
  if (halves.length === 1 && known !== 8) return null;
  if (halves.length === 2 && known > 7) return null;
  return [...left, ...Array<number>(8 - known).fill(0), ...right, ...tail];
}

function refuse(reason: UrlRefusal, message: string): UrlCheck {
  return { ok: false, reason, message };
}
