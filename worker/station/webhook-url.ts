// The SSRF guard for webhook URLs: deployed, only https:// to public hosts (no localhost, no IP
// literal in a private, loopback, link-local or reserved range, no credentials in the URL).
// `WEBHOOK_ALLOW_PRIVATE=1` (local dev and tests only) also allows http:// and any host.
// Checked when an endpoint is saved and again before every delivery.

export type UrlRefusal =
  | "malformed"
  | "scheme"
  | "credentials"
  | "localhost"
  | "private_address"
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
    const host = url.hostname.toLowerCase().replace(/\.$/, "");
    if (host === "localhost" || host.endsWith(".localhost")) return refuse("localhost", "url may not point at localhost");
    if (isPrivateHost(host)) return refuse("private_address", "url may not point at a private, loopback, link-local or reserved address");
  }
  return { ok: true, url: url.href };
}

/** True for an IP literal (as the WHATWG parser normalised it) that is not a public unicast address. */
export function isPrivateHost(host: string): boolean {
  if (host.startsWith("[") && host.endsWith("]")) return isPrivateIpv6(host.slice(1, -1));
  const v4 = parseIpv4(host);
  return v4 !== null && isPrivateIpv4(v4);
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

function isPrivateIpv4(address: number): boolean {
  return IPV4_BLOCKED.some(([base, bits]) => (address >>> (32 - bits)) === (base >>> (32 - bits)));
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
  if (words === null) return true; // unparsable: refuse rather than guess
  const all0 = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  if (all0(0, 8)) return true; // :: unspecified
  if (all0(0, 7) && words[7] === 1) return true; // ::1 loopback
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96): judge the IPv4 inside.
  const embedded = ((words[6]! << 16) | words[7]!) >>> 0;
  if (all0(0, 5) && (words[5] === 0xffff || words[5] === 0)) return isPrivateIpv4(embedded);
  if (words[0] === 0x64 && words[1] === 0xff9b && all0(2, 6)) return isPrivateIpv4(embedded);
  const first = words[0]!;
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return true; // ff00::/8 multicast
  if (first === 0x2001 && words[1] === 0x0db8) return true; // 2001:db8::/32 documentation
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
