// The server client (`waystation/server`, built as the npm package ships it) from a plain Node
// process against a real `wrangler dev`: a batching producer with dedup ids puts 10,000
// messages in; a consumer with concurrency 8 takes them over the WebSocket while one handler
// throws at random, another dead-letters some, and one keeps a message past the ack timeout
// with working(). Afterwards every message is acked or dead-lettered exactly once, and the
// kept one was never redelivered. Also: the long-poll fallback when there is no WebSocket.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClient, ROOT, type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

const SERVER_ENTRY = join(ROOT, "client", "dist", "server.js");
const ACK_TIMEOUT_MS = 5000;

let worker: RunningWorker;
let call: ReturnType<typeof apiClient>;
let scratch: string;

beforeAll(async () => {
  // `npm run build` builds the package; a run of this file alone builds it if it is missing.
  if (!existsSync(SERVER_ENTRY)) execFileSync(process.execPath, [join(ROOT, "client", "build.mjs"), "--package"], { stdio: "inherit" });
  scratch = mkdtempSync(join(tmpdir(), "waystation-server-client-"));
  worker = await startWorker();
  call = apiClient(worker);
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  if (worker) removeStateDir(worker.stateDir);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** Runs `source` (an ES module) in a plain `node` process; resolves with the JSON it prints last. */
function runNode(source: string, env: Record<string, string>): Promise<any> {
  const file = join(scratch, `script-${Date.now()}.mjs`);
  writeFileSync(file, source);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`node exited ${code}:\n${err}\n${out.slice(-2000)}`));
      try {
        resolve(JSON.parse(out.trim().split("\n").at(-1)!));
      } catch {
        reject(new Error(`no JSON result:\n${out.slice(-2000)}\n${err}`));
      }
    });
  });
}

async function createStation(name: string, config: Record<string, unknown>, groups: string[]): Promise<void> {
  expect((await call("PUT", `/v1/stations/${name}`, config)).status).toBe(201);
  for (const group of groups) expect((await call("PUT", `/v1/stations/${name}/groups/${group}`, {})).status).toBe(201);
}

/** Every dead letter of a group, page after page. */
async function allDeadLetters(station: string, group: string): Promise<any[]> {
  const letters: any[] = [];
  let after = 0;
  for (;;) {
    const res = await call("GET", `/v1/stations/${station}/dls?group=${group}&limit=1000${after ? `&after=${after}` : ""}`);
    expect(res.status).toBe(200);
    letters.push(...res.body.deadLetters);
    if (res.body.next === null) return letters;
    after = res.body.next;
  }
}

/** The script the plain Node process runs: produce N, consume them all, report what happened. */
const SCRIPT = `
import { createServerClient, WaystationError } from ${JSON.stringify(pathToFileURL(SERVER_ENTRY).href)};
const { URL_, TOKEN, STATION, COUNT, TRANSPORT, SLOW_N, ACK_TIMEOUT_MS } = process.env;
const count = Number(COUNT);
// "none": a runtime without a WebSocket global, as Node 20.
if (TRANSPORT === "none") delete globalThis.WebSocket;
const client = createServerClient({ url: URL_, token: TOKEN });

// Produce: concurrent sends, batched by the producer; each carries a generated dedup id.
const producer = client.producer(STATION, { maxBatchMessages: 500 });
const sent = await Promise.all(Array.from({ length: count }, (_, i) => producer.send({ n: i + 1 }, { key: "k" + (i % 7) })));
await producer.close();

// A seeded random source (mulberry32), so a failure can be replayed.
let seed = 0x5eed;
const random = () => { seed |= 0; seed = (seed + 0x6d2b79f5) | 0; let t = Math.imul(seed ^ (seed >>> 15), 1 | seed); t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t; return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };

const deliveries = new Map(); // offset -> hand-outs seen by handlers
const verdicts = { acked: [], deadLettered: [], thrown: 0 };
const slow = { calls: 0, kept: [], startedAt: 0, endedAt: 0, deliveries: [] };
const errors = [];
const slowN = Number(SLOW_N);

const consumer = client.consume(STATION, "g", async (m) => {
  deliveries.set(m.offset, (deliveries.get(m.offset) ?? 0) + 1);
  if (m.body.n === slowN) {
    // Works 2.5 ack timeouts, saying so before each lease would end.
    slow.calls++; slow.deliveries.push(m.deliveries); slow.startedAt = Date.now();
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, Number(ACK_TIMEOUT_MS) / 2));
      slow.kept.push(await m.working());
    }
    slow.endedAt = Date.now();
    await m.ack(); verdicts.acked.push(m.offset);
    return;
  }
  if (m.body.n % 997 === 0) { await m.deadLetter("n is a multiple of 997"); verdicts.deadLettered.push(m.offset); return; }
  if (random() < 0.1) { verdicts.thrown++; throw new Error("random failure"); }
  await m.ack(); verdicts.acked.push(m.offset);
}, { concurrency: 8, max: 32, nackDelayMs: 0, transport: TRANSPORT === "none" ? "auto" : TRANSPORT, onError: (e) => { if (!(e instanceof WaystationError) || !e.message.startsWith("Handler failed")) errors.push(String(e.code) + ": " + e.message); } });
const transport = consumer.transport;

// Messages that ran out of deliveries go to the DLS by the station (max_deliveries): wait for
// the station to account for every message, then stop.
const deadline = Date.now() + 600_000;
for (;;) {
  const info = await (await fetch(URL_ + "/v1/stations/" + STATION + "/groups/g", { headers: { authorization: "Bearer " + TOKEN } })).json();
  const dls = await (await fetch(URL_ + "/v1/stations/" + STATION, { headers: { authorization: "Bearer " + TOKEN } })).json();
  if (info.acked + (dls.stats?.deadLetters ?? 0) >= count && info.pending === 0 && info.redeliveries === 0 && info.nextOffset > count) break;
  if (Date.now() > deadline) { errors.push("timed out: " + JSON.stringify(info)); break; }
  await new Promise((r) => setTimeout(r, 500));
}
await consumer.stop();
console.log(JSON.stringify({
  transport,
  offsets: sent.map((s) => s.offset),
  duplicates: sent.filter((s) => s.duplicate).length,
  acked: verdicts.acked, deadLettered: verdicts.deadLettered, thrown: verdicts.thrown,
  slow, errors: errors.slice(0, 20),
}));
`;

describe("waystation/server from a plain Node process", () => {
  it("consumes 10,000 messages with concurrency 8: every one acked or dead-lettered exactly once, working() keeps its lease", async () => {
    const station = `e2e-server-client-${Date.now().toString(36)}`;
    const count = 10_000;
    await createStation(station, { ackTimeoutMs: ACK_TIMEOUT_MS, maxDeliveries: 3 }, ["g"]);
    const result = await runNode(SCRIPT, { URL_: worker.url, TOKEN: worker.token, STATION: station, COUNT: String(count), TRANSPORT: "websocket", SLOW_N: "4242", ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS) });
    expect(result.errors).toEqual([]);
    expect(result.transport).toBe("websocket");
    // The producer: every send stored once, offsets 1..count, none a duplicate.
    expect(result.duplicates).toBe(0);
    expect([...result.offsets].sort((a: number, b: number) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(result.thrown).toBeGreaterThan(500); // the random handler did fail, often

    // The station's account: acked ones and dead letters, disjoint, covering every offset once.
    const letters = await allDeadLetters(station, "g");
    const info = (await call("GET", `/v1/stations/${station}/groups/g`)).body;
    const lettered = letters.map((l) => l.offset);
    expect(new Set(lettered).size).toBe(lettered.length);
    expect(new Set(result.acked).size).toBe(result.acked.length);
    expect(info.acked).toBe(result.acked.length);
    expect(lettered.filter((o: number) => result.acked.includes(o))).toEqual([]);
    expect(new Set([...result.acked, ...lettered]).size).toBe(count);
    expect(info).toMatchObject({ pending: 0, redeliveries: 0 });
    // Dead-lettered by the handler: reason `rejected`; the rest ran out of deliveries (3 throws).
    const rejected = letters.filter((l) => l.reason === "rejected");
    expect(rejected.map((l) => l.offset).sort((a: number, b: number) => a - b)).toEqual([...result.deadLettered].sort((a: number, b: number) => a - b));
    expect(rejected.every((l) => l.detail.reason === "n is a multiple of 997")).toBe(true);
    expect(letters.filter((l) => l.reason !== "rejected").every((l) => l.reason === "max_deliveries" && l.deliveries === 3)).toBe(true);

    // working(): the handler ran 2.5 ack timeouts on one delivery and was never handed it again.
    expect(result.slow.calls).toBe(1);
    expect(result.slow.deliveries).toEqual([1]);
    expect(result.slow.kept).toEqual([true, true, true, true, true]);
    expect(result.slow.endedAt - result.slow.startedAt).toBeGreaterThan(2 * ACK_TIMEOUT_MS);
  }, 900_000);

  it("long-polls when there is no WebSocket (Node 20), with the same verdicts", async () => {
    const station = `e2e-server-poll-${Date.now().toString(36)}`;
    const count = 400;
    await createStation(station, { ackTimeoutMs: ACK_TIMEOUT_MS, maxDeliveries: 3 }, ["g"]);
    const result = await runNode(SCRIPT, {
      URL_: worker.url, TOKEN: worker.token, STATION: station, COUNT: String(count), TRANSPORT: "none", SLOW_N: "300", ACK_TIMEOUT_MS: String(ACK_TIMEOUT_MS),
    });
    expect(result.errors).toEqual([]);
    expect(result.transport).toBe("poll");
    const letters = await allDeadLetters(station, "g");
    const lettered = letters.map((l) => l.offset);
    expect(lettered.filter((o: number) => result.acked.includes(o))).toEqual([]);
    expect(new Set([...result.acked, ...lettered]).size).toBe(count);
    expect(result.acked.length + lettered.length).toBe(count);
    expect(result.slow).toMatchObject({ calls: 1, deliveries: [1], kept: [true, true, true, true, true] });
  }, 300_000);
});
