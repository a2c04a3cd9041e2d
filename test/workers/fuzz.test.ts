// Property-based fuzzing of every route: thousands of random and malformed requests (methods,
// paths, names, queries, headers, tokens, content types, bodies — unicode, control characters,
// huge and invalid JSON). Properties: never a 5xx; every refusal is the error JSON with a known
// code; and a guarded station none of the requests may change keeps its log, config and stats.
// Then every socket frame type, valid and hostile, on scoped sockets (see below).
// fast-check prints the seed and the shrunk request of any failure: rerun with `seed`.
import fc from "fast-check";
import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "../../shared/errors";
import { buildApp } from "../../worker/app";
import { ADMIN_TOKEN, api, createStation, produce, seqBatch, uniqueStation } from "./helpers";
import { SocketCloseCode } from "../../shared/websocket-auth";
import { inStation } from "./security-helpers";
import { grantToken, noneToken, rs256Token, signToken, tamper } from "./token-helpers";

const RUNS = 2000;
const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** tokens[0] is the admin's, the next SCOPED_TOKENS are valid scoped ones, the rest are refused. */
const SCOPED_TOKENS = 4;

let guarded = "";
let scratch = "";
let templates: { method: string; path: string }[] = [];
let tokens: { admin: boolean; header: string | null }[] = [];

async function snapshot(station: string) {
  const info = (await api("GET", `/v1/stations/${station}`)).body;
  const log = (await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`)).body;
  const dls = (await api("GET", `/v1/stations/${station}/dls`)).body;
  const webhooks = (await api("GET", `/v1/stations/${station}/webhooks`)).body;
  const { throughput: _clock, ...rest } = info; // buckets follow the clock, not the data
  return { info: rest, log, dls, webhooks };
}

beforeAll(async () => {
  guarded = await createStation({ retention: { maxMessages: 1000 } }, uniqueStation("guarded"));
  scratch = await createStation({}, uniqueStation("scratch"));
  await produce(guarded, { producer: "owner", messages: seqBatch(1, 20, (seq) => ({ seq, text: "ünïcødé 🚉", list: [seq, null, true] })) });
  await produce(guarded, { messages: [{ body: "plain", key: "k", headers: { h: "v" }, id: "dedup-1" }] });
  templates = buildApp().routes.filter((route) => route.method !== "ALL").map(({ method, path }) => ({ method, path }));
  const now = Math.floor(Date.now() / 1000);
  const fast = { limits: { requestsPerSecond: 100_000, bytesPerSecond: 1_000_000_000 } };
  const everything = ["produce", "consume", "manage"];
  // Scoped tokens that reach the scratch station or look-alikes of the guarded one, never it.
  const scoped = await Promise.all([
    grantToken([scratch], everything, { claims: fast }),
    grantToken([`${guarded}.*`, `${guarded}x`, `x${guarded}`], everything, { claims: fast }),
    grantToken([scratch], ["consume"], { claims: fast }),
    grantToken([scratch], ["produce"]),
  ]);
  // Tokens that must reach nothing at all.
  const refused = [
    await signToken({ expiresIn: -3600 }),
    await signToken({ key: "forged-signing-key-0123456789abcdefghijklmnop" }),
    await signToken({ alg: "HS384" }),
    await rs256Token(),
    noneToken(),
    tamper(scoped[0]!, { sub: "mallory", exp: now + 600, grants: [{ stations: ["*"], actions: everything }] }),
    await signToken({ claims: { grants: [{ stations: ["*"], actions: ["everything"] }] } }),
    await signToken({ omit: ["exp"] }),
  ];
  expect(scoped).toHaveLength(SCOPED_TOKENS);
  tokens = [
    { admin: true, header: `Bearer ${ADMIN_TOKEN}` },
    ...scoped.map((token) => ({ admin: false, header: `Bearer ${token}` })),
    ...refused.map((token) => ({ admin: false, header: `Bearer ${token}` })),
    { admin: false, header: null },
    { admin: false, header: "Basic YWRtaW46YWRtaW4=" },
    { admin: false, header: "Bearer" },
    { admin: false, header: `Bearer ${ADMIN_TOKEN}x` },
    { admin: false, header: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
    { admin: false, header: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` },
  ];
}, 60_000);

// ---- generators ------------------------------------------------------------------------------

const nasty = fc.oneof(
  fc.string({ unit: "binary", maxLength: 24 }),
  fc.array(fc.constantFrom("\u0000", "\u0007", "\n", "\r", "\t", "\u001b", "\u007f", "\u202e", "\ud800", "\udfff", "\ufeff", "💥", "é", "/", "%", "."), { maxLength: 8 }).map((chars) => chars.join("")),
  fc.constantFrom("", " ", "..", "%00", "%zz", "%E2%80%AE", "*", "orders.*", "null", "__proto__", "constructor", "0", "-1", "1e309", "9007199254740993"),
  fc.nat({ max: 400 }).map((n) => "a".repeat(n)),
);

function encodeSegment(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.replace(/[\ud800-\udfff]/g, "%ED%A0%80"); // a lone surrogate, as raw UTF-8 would carry it
  }
}

const nameish = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(scratch, guarded, "missing-station", `${guarded}.child`, `${guarded}x`) },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/) },
    { weight: 1, arbitrary: fc.constantFrom("1", "42", "g1", "webhook-1", "schema-1") },
    { weight: 2, arbitrary: nasty.map(encodeSegment) },
    { weight: 1, arbitrary: nasty.map((text) => text.replace(/[?#\u0000-\u001f]/g, "")) }, // unencoded
  );

const routePath = () =>
  fc.constantFrom(...templates.map((t) => t.path)).chain((template) => {
    const params = template.split("/").filter((segment) => segment.startsWith(":"));
    return fc.tuple(...params.map(() => nameish())).map((values) => {
      let path = template;
      params.forEach((param, i) => (path = path.replace(param, values[i]!)));
      return path;
    });
  });

const pathArb = () =>
  fc.oneof(
    { weight: 8, arbitrary: routePath() },
    { weight: 1, arbitrary: fc.array(nameish(), { maxLength: 6 }).map((segments) => `/v1/${segments.join("/")}`) },
    { weight: 1, arbitrary: fc.constantFrom("/", "/v1", "/v1/", "/v1/stations/", "//v1//stations", "/v1/stations/%2e%2e/x", "/healthz/", "/v2/stations", "/V1/STATIONS", "/v1/stations/a/b/c/d/e/f/g") },
  );

const queryArb = fc.option(
  fc.array(
    fc.tuple(
      fc.oneof(fc.constantFrom("from", "limit", "max", "waitMs", "consumer", "version", "__proto__"), nasty),
      fc.oneof(fc.integer().map(String), fc.constantFrom("-1", "0", "1", "1e3", "99999999999999999999", "NaN", ""), nasty),
    ),
    { maxLength: 4 },
  ).map((pairs) => "?" + pairs.map(([k, v]) => `${encodeSegment(k)}=${encodeSegment(v)}`).join("&")),
  { nil: "" },
);

const intish = fc.oneof(fc.integer({ min: -3, max: 2000 }), fc.constantFrom(0, -1, 1.5, 1e309, 2 ** 53, Number.MAX_SAFE_INTEGER), fc.constantFrom("1", null, true, [], {}));
const jsonish = fc.oneof(fc.jsonValue({ maxDepth: 4 }), nasty, intish);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const plausibleBody = fc.oneof(
  fc.record(
    {
      producer: maybe(fc.oneof(fc.constantFrom("owner", "p1", "fuzzer"), nasty)),
      messages: fc.oneof(
        fc.array(
          fc.record(
            {
              seq: maybe(intish),
              body: jsonish,
              headers: maybe(fc.oneof(fc.dictionary(nasty, nasty, { maxKeys: 4 }), jsonish)),
              key: maybe(fc.oneof(nasty, intish)),
              id: maybe(fc.oneof(nasty, fc.constantFrom("dedup-1"))),
              extra: maybe(jsonish),
            },
            { requiredKeys: ["body"] },
          ),
          { maxLength: 4 },
        ),
        jsonish,
      ),
    },
    { requiredKeys: [] },
  ),
  // fetch / ack / nack: long-polls stay short, this is a fuzzer not a soak test.
  fc.record({ consumer: maybe(nasty), max: maybe(intish), waitMs: maybe(fc.integer({ min: -1, max: 20 })) }, { requiredKeys: [] }),
  fc.record({ offsets: maybe(fc.oneof(fc.array(intish, { maxLength: 5 }), jsonish)), delayMs: maybe(intish) }, { requiredKeys: [] }),
  fc.record({ url: maybe(fc.oneof(nasty, fc.constantFrom("https://example.com/hook", "http://127.0.0.1:1/x", "javascript:alert(1)"))), secret: maybe(nasty) }, { requiredKeys: [] }),
  fc.record({ ids: maybe(fc.oneof(fc.array(intish, { maxLength: 4 }), jsonish)) }, { requiredKeys: [] }),
  fc.record(
    {
      kind: maybe(fc.oneof(fc.constantFrom("log", "doc"), nasty)),
      retention: maybe(fc.oneof(fc.record({ maxAgeMs: maybe(intish), maxMessages: maybe(intish), maxBytes: maybe(intish) }, { requiredKeys: [] }), jsonish)),
      maxMessageBytes: maybe(intish),
      ackTimeoutMs: maybe(intish),
      maxStorageBytes: maybe(intish),
      rateLimit: maybe(fc.oneof(fc.record({ requestsPerSecond: maybe(intish), bytesPerSecond: maybe(intish) }, { requiredKeys: [] }), jsonish)),
      schema: maybe(jsonish),
    },
    { requiredKeys: [] },
  ),
  fc.record({ sub: maybe(nasty), ttlSeconds: maybe(intish), grants: maybe(fc.oneof(fc.array(fc.record({ stations: fc.array(nasty, { maxLength: 3 }), actions: fc.array(nasty, { maxLength: 3 }) }), { maxLength: 2 }), jsonish)) }, { requiredKeys: [] }),
  fc.record({ type: maybe(nasty), properties: maybe(jsonish), $schema: maybe(nasty) }, { requiredKeys: [] }),
  fc.anything({ maxDepth: 3 }),
);

const bodyArb = fc.oneof(
  { weight: 6, arbitrary: plausibleBody.map((value) => JSON.stringify(value) ?? "null") },
  { weight: 1, arbitrary: plausibleBody.map((value) => (JSON.stringify(value) ?? "").slice(0, -1)) }, // truncated
  { weight: 1, arbitrary: nasty },
  { weight: 1, arbitrary: fc.nat({ max: 30_000 }).map((depth) => `{"messages":[{"body":${"[".repeat(depth)}${"]".repeat(depth)}}]}`) },
  { weight: 1, arbitrary: fc.constantFrom("", "{}", "[]", "null", "0", '"x"', "{'a':1}", "NaN", '{"a":1}{"b":2}', "\uFEFF{}") },
  { weight: 1, arbitrary: fc.constantFrom(250_000, 300_000).map((n) => `{"messages":[{"body":"${"z".repeat(n)}"}]}`) },
);

const contentTypeArb = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "APPLICATION/JSON",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/jsonx",
  "",
  undefined,
);

const methodArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom("GET", "POST", "PUT", "DELETE") },
  { weight: 2, arbitrary: fc.constantFrom("PATCH", "HEAD", "OPTIONS") },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z]{1,10}$/).filter((m) => !["CONNECT", "TRACE", "TRACK"].includes(m)) },
);

/** What a header value can carry through fetch(): no NUL, CR or LF; non-ASCII as "?" (workerd
 *  would send it as UTF-8 and warn on every request). Control characters stay. */
function headerValue(text: string): string {
  return text.replace(/[\u0000\r\n]/g, "").replace(/[^\u0000-\u007f]/g, "?");
}

const extraHeadersArb = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  nasty.map(headerValue),
  { maxKeys: 4 },
);

const requestArb = () =>
  fc.record({
    method: methodArb,
    path: pathArb(),
    query: queryArb,
    // Most requests carry a token that gets past authentication, so that the routes get fuzzed.
    token: fc.oneof(
      { weight: 4, arbitrary: fc.constant(0) },
      { weight: 3, arbitrary: fc.integer({ min: 1, max: SCOPED_TOKENS }) },
      { weight: 3, arbitrary: fc.integer({ min: SCOPED_TOKENS + 1, max: tokens.length - 1 }) },
    ),
    junkToken: fc.option(nasty.map(headerValue), { freq: 8 }),
    contentType: contentTypeArb,
    body: bodyArb,
    origin: fc.option(fc.constantFrom("https://app.example", "https://evil.example", "null", "http://localhost:5173"), { freq: 3 }),
    preflight: fc.boolean(),
    protocol: fc.option(fc.oneof(fc.constantFrom("1", "2", "0"), nasty.map(headerValue)), { freq: 4 }),
    headers: extraHeadersArb,
  });

type FuzzRequest = ReturnType<typeof requestArb> extends fc.Arbitrary<infer R> ? R : never;

function toRequest(input: FuzzRequest): Request {
  const token = tokens[input.token]!;
  let path = input.path;
  // Only the admin can change the guarded station legitimately: it reads it, never writes it.
  if (token.admin && !SAFE_METHODS.has(input.method)) path = path.split(guarded).join(scratch);
  const headers = new Headers(input.headers);
  const authorization = input.junkToken !== null ? `Bearer ${input.junkToken}` : token.header;
  if (authorization !== null) headers.set("authorization", authorization);
  if (input.contentType !== undefined) headers.set("content-type", input.contentType);
  if (input.origin !== null) headers.set("origin", input.origin);
  if (input.origin !== null && input.preflight) headers.set("access-control-request-method", "POST");
  if (input.protocol !== null) headers.set("waystation-protocol", input.protocol);
  const hasBody = !["GET", "HEAD"].includes(input.method);
  return new Request(`https://waystation.test${path}${input.query}`, { method: input.method, headers, body: hasBody ? input.body : undefined });
}

async function send(input: FuzzRequest) {
  let request: Request;
  try {
    request = toRequest(input);
  } catch {
    return; // the client library itself refuses it (an invalid URL or header): nothing reaches us
  }
  const response: Response = await (exports as any).default.fetch(request);
  const text = await response.text();
  const where = `${request.method} ${new URL(request.url).pathname.slice(0, 200)} → ${response.status} ${text.slice(0, 300)}`;
  expect(response.status, where).toBeLessThan(500);
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  if (response.status >= 400 && request.method !== "HEAD") {
    let parsed: any;
    expect(() => (parsed = JSON.parse(text)), where).not.toThrow();
    expect(KNOWN_CODES.has(parsed?.error?.code), where).toBe(true);
    expect(typeof parsed.error.message, where).toBe("string");
    expect(response.headers.get("content-type"), where).toContain("application/json");
  }
}

describe("fuzz", () => {
  it(`answers ${RUNS} hostile requests without a 5xx, always with a coded error, and changes nothing guarded`, async () => {
    const before = await snapshot(guarded);
    expect(before.log.messages).toHaveLength(21);
    await fc.assert(fc.asyncProperty(requestArb(), send), { numRuns: RUNS });
    expect(await snapshot(guarded)).toEqual(before);
  }, 120_000);
});

// ---- socket frames -----------------------------------------------------------------------------
// Every frame type of both sockets (subscribe: credit, ack, nack, extend, dead-letter; doc:
// awareness), valid and malformed, from scoped tokens: the object never fails (no 5xx after, no
// close but the documented codes, every error frame coded), and sockets whose token expired or
// whose key was rotated change nothing, whatever they send.

const SOCKET_RUNS = 150;
const CLOSE_CODES = new Set([1000, 1005, 1006, SocketCloseCode.PolicyViolation, SocketCloseCode.TokenExpired, SocketCloseCode.TokenRevoked]);

const refArb = fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.integer()), { nil: undefined });
const offsetArb = fc.oneof(fc.integer({ min: -3, max: 40 }), fc.constantFrom(0, 1.5, 1e309, -0, "1", null, 9007199254740993));
const frameArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.record({ type: fc.constant("credit"), n: fc.oneof(fc.integer({ min: -2, max: 2000 }), fc.constantFrom(1.5, "3", null)), ref: refArb }, { requiredKeys: ["type"] }).map((f) => JSON.stringify(f)),
  fc
    .record({ type: fc.constant("ack"), offsets: fc.array(offsetArb, { maxLength: 12 }), epoch: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.constant("x")), ref: refArb }, { requiredKeys: ["type"] })
    .map((f) => JSON.stringify(f)),
  fc.record({ type: fc.constant("extend"), offsets: fc.array(offsetArb, { maxLength: 12 }), ref: refArb }, { requiredKeys: ["type"] }).map((f) => JSON.stringify(f)),
  fc
    .record({ type: fc.constant("dead-letter"), offsets: fc.array(offsetArb, { maxLength: 12 }), reason: fc.oneof(fc.string({ maxLength: 40 }), fc.constant("r".repeat(5000)), fc.constant(null)), ref: refArb }, { requiredKeys: ["type"] })
    .map((f) => JSON.stringify(f)),
  fc
    .record({ type: fc.constant("nack"), offsets: fc.array(offsetArb, { maxLength: 12 }), delayMs: fc.oneof(fc.integer({ min: -1, max: 100_000_000 }), fc.constant("x")), ref: refArb }, { requiredKeys: ["type", "offsets"] })
    .map((f) => JSON.stringify(f)),
  fc
    .record({
      type: fc.constant("awareness"),
      states: fc.array(
        fc.record({ clientID: fc.oneof(fc.integer({ min: -1, max: 5 }), fc.nat()), clock: fc.oneof(fc.nat(), fc.constant(-1)), state: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 })) }, { requiredKeys: [] }),
        { maxLength: 20 },
      ),
    })
    .map((f) => JSON.stringify(f)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.string({ unit: "binary", maxLength: 120 }),
  fc.constantFrom("", "{", "null", '{"type":"ack","offsets":[1],"extra":1}', '{"type":"__proto__"}', "x".repeat(70_000), `{"type":"awareness","states":[{"clientID":1,"clock":1,"state":"${"y".repeat(5000)}"}]}`),
  fc.uint8Array({ maxLength: 64 }),
);

/** Opens a socket with a token, recording error codes and the close. */
async function frameSocket(path: string, token: string) {
  const res: Response = await (exports as any).default.fetch(
    new Request(`https://waystation.test${path}`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
  );
  expect(res.status, path).toBe(101);
  const socket = res.webSocket!;
  socket.accept();
  const state = { socket, closeCode: null as number | null, errorCodes: [] as string[], frames: [] as any[] };
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data as string);
    state.frames.push(frame);
    if (frame.type === "error") state.errorCodes.push(frame.error?.code);
  });
  socket.addEventListener("close", (event) => {
    state.closeCode = event.code;
  });
  return state;
}

function sendFrame(socket: WebSocket, frame: string | Uint8Array): void {
  try {
    socket.send(frame);
  } catch {
    // closed meanwhile: the close code is checked
  }
}

async function groupStation(): Promise<string> {
  const station = await createStation({}, uniqueStation("frames"));
  expect((await api("PUT", `/v1/stations/${station}/groups/g`, { ackTimeoutMs: 600_000 })).status).toBe(201);
  await produce(station, { messages: seqBatch(1, 30) });
  // Leased to another consumer: an obeyed ack or nack from a fuzzed socket would show.
  expect((await api("POST", `/v1/stations/${station}/groups/g/fetch`, { consumer: "holder", max: 10 })).status).toBe(200);
  return station;
}

async function groupSnapshot(station: string) {
  const { throughput: _clock, ...info } = (await api("GET", `/v1/stations/${station}`)).body;
  const group = (await api("GET", `/v1/stations/${station}/groups/g`)).body;
  return { info, group, dls: (await api("GET", `/v1/stations/${station}/dls`)).body };
}

describe("fuzz of socket frames", () => {
  it(`answers ${SOCKET_RUNS} runs of hostile frames on live scoped sockets without failing`, async () => {
    const station = await groupStation();
    const doc = await createStation({ kind: "doc" }, uniqueStation("frames-doc"));
    const consume = await grantToken([station, doc], ["consume"], { claims: { limits: { requestsPerSecond: 1000 } } });
    const paths = [`/v1/stations/${station}/groups/g/subscribe?consumer=fuzz&credit=0`, `/v1/stations/${doc}/doc/subscribe`];
    const sockets: Array<Awaited<ReturnType<typeof frameSocket>> | null> = [null, null];
    const seen: Array<Awaited<ReturnType<typeof frameSocket>>> = [];
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1 }), fc.array(frameArb, { minLength: 1, maxLength: 8 }), async (which, frames) => {
        let target = sockets[which];
        if (!target || target.closeCode !== null) {
          target = await frameSocket(paths[which]!, consume);
          sockets[which] = target;
          seen.push(target);
        }
        for (const frame of frames) sendFrame(target.socket, frame);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }),
      { numRuns: SOCKET_RUNS },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const socket of seen) {
      for (const code of socket.errorCodes) expect(KNOWN_CODES.has(code), code).toBe(true);
      if (socket.closeCode !== null) expect(CLOSE_CODES.has(socket.closeCode), String(socket.closeCode)).toBe(true);
      for (const frame of socket.frames) {
        expect(["subscribed", "messages", "acked", "nacked", "extended", "dead-lettered", "error", "hello", "update", "stale", "awareness"]).toContain(frame.type);
      }
    }
    // The objects still serve.
    expect((await api("GET", `/v1/stations/${station}`)).status).toBe(200);
    expect((await api("GET", `/v1/stations/${doc}/doc`)).status).toBe(200);
    for (const socket of sockets) socket?.socket.close();
  }, 120_000);

  it("changes nothing through sockets whose token expired or whose key was rotated, whatever they send", async () => {
    const station = await groupStation();
    const doc = await createStation({ kind: "doc" }, uniqueStation("frames-doc"));
    const short = await grantToken([station, doc], ["consume"], { expiresIn: 2 });
    const expiresAtMs = JSON.parse(atob(short.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))).exp * 1000;
    const expired = [
      await frameSocket(`/v1/stations/${station}/groups/g/subscribe?consumer=late&credit=0`, short),
      await frameSocket(`/v1/stations/${doc}/doc/subscribe`, short),
    ];
    const watcher = await frameSocket(`/v1/stations/${doc}/doc/subscribe`, ADMIN_TOKEN);
    const before = await groupSnapshot(station);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAtMs - Date.now()) + 50));
    const samples = fc.sample(frameArb, { numRuns: 200, seed: 14 });
    for (const frame of samples) for (const socket of expired) sendFrame(socket.socket, frame);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const socket of expired) expect(socket.closeCode).toBe(SocketCloseCode.TokenExpired);
    expect(await groupSnapshot(station)).toEqual(before);
    expect(watcher.frames.filter((f) => f.type === "awareness").flatMap((f) => f.states).filter((s: any) => s.state !== null)).toEqual([]);

    // A live socket, then the station's key rotated under it.
    const live = await grantToken([station], ["consume"]);
    const rotated = await frameSocket(`/v1/stations/${station}/groups/g/subscribe?consumer=rot&credit=0`, live);
    const beforeRotation = await groupSnapshot(station); // the subscribe itself notes consumer "rot" as seen
    await inStation(station, (instance) => {
      instance.env.FUZZ_KEY_BEFORE = instance.env.TOKEN_SIGNING_KEY;
      instance.env.TOKEN_SIGNING_KEY = "fuzz-rotated-signing-key-0123456789abcdef";
    });
    try {
      for (const frame of samples) sendFrame(rotated.socket, frame);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(rotated.closeCode).toBe(SocketCloseCode.TokenRevoked);
    } finally {
      await inStation(station, (instance) => {
        instance.env.TOKEN_SIGNING_KEY = instance.env.FUZZ_KEY_BEFORE;
      });
    }
    expect(await groupSnapshot(station)).toEqual(beforeRotation);
    watcher.socket.close();
  }, 60_000);
});
