// Catch-up of a new client on a document of 10,000 updates (issue 9), against wrangler dev:
// `POST …/doc` on a compacted doc station, the same on one that never compacts, and replaying
// the raw update log page by page. Time (request + applying to a fresh Y.Doc) and bytes, cold
// (first read after the runtime restarted) and warm. Run: `npm run bench:docs -- [--updates N] [--runs N]`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as Y from "yjs";
import { closeConnections, request, requestJson } from "./lib/http.mjs";
import { freePort, signalGroup, sleep } from "./lib/processes.mjs";
import { percentile } from "./lib/stats.mjs";
import { BENCH_ADMIN_TOKEN, ROOT } from "./lib/wrangler-dev.mjs";

const { values: args } = parseArgs({ options: { updates: { type: "string", default: "10000" }, runs: { type: "string", default: "5" } } });
const UPDATES = Number(args.updates);
const RUNS = Number(args.runs);
const log = (line) => console.error(`[bench docs] ${line}`);

/** wrangler dev on a given state directory, so a restart keeps the stations (cold reads). */
async function startWorker(stateDir) {
  const port = await freePort();
  const child = spawn(join(ROOT, "node_modules", ".bin", "wrangler"), [
    "dev", "--port", String(port), "--ip", "127.0.0.1", "--persist-to", stateDir,
    "--show-interactive-dev-session=false", "--log-level", "error", "--var", `ADMIN_TOKEN:${BENCH_ADMIN_TOKEN}`,
  ], { cwd: ROOT, detached: true, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true", X_LOCAL_OBSERVABILITY: "false" } });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 180_000; ; await sleep(250)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      signalGroup(child, "SIGKILL");
      throw new Error("wrangler dev did not start");
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {}
  }
  return {
    url,
    stop: async () => {
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      closeConnections();
    },
  };
}

/** A typist: mostly inserts of a few characters, some deletions, some formatting-like map sets. */
function typingUpdates(count) {
  const doc = new Y.Doc();
  const updates = [];
  doc.on("update", (u) => updates.push(u));
  const text = doc.getText("body");
  let x = 42;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  while (updates.length < count) {
    const roll = next();
    if (roll < 0.8 || text.length < 10) text.insert(Math.floor(next() * (text.length + 1)), "lorem ipsum ".slice(0, 1 + Math.floor(next() * 6)));
    else if (roll < 0.95) text.delete(Math.floor(next() * (text.length - 3)), 1 + Math.floor(next() * 3));
    else doc.getMap("meta").set(`k${Math.floor(next() * 20)}`, updates.length);
  }
  return { doc, updates };
}

const b64 = (bytes) => Buffer.from(bytes).toString("base64");
const fromB64 = (text) => new Uint8Array(Buffer.from(text, "base64"));

async function produceAll(url, station, updates) {
  for (let i = 0; i < updates.length; i += 500) {
    const messages = updates.slice(i, i + 500).map((u, j) => ({ seq: i + j + 1, body: { $binary: b64(u) } }));
    await requestJson("POST", `${url}/v1/stations/${station}/messages`, { json: { producer: "bench", messages }, token: BENCH_ADMIN_TOKEN });
  }
}

/** One round trip: the whole doc as one merged update, applied to a fresh Y.Doc. */
async function catchUpWithDoc(url, station) {
  const started = performance.now();
  const res = await request("POST", `${url}/v1/stations/${station}/doc`, { body: "{}", token: BENCH_ADMIN_TOKEN, timeoutMs: 120_000 });
  if (res.status !== 200) throw new Error(`doc ${station}: ${res.status} ${res.text.slice(0, 300)}`);
  const answer = JSON.parse(res.text);
  const update = fromB64(answer.update.$binary);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return { ms: performance.now() - started, bytes: Buffer.byteLength(res.text), updateBytes: update.byteLength, roundTrips: 1, text: doc.getText("body").toString() };
}

/** The raw log: pages of 1,000 messages, each update applied in order. */
async function catchUpWithReplay(url, station) {
  const started = performance.now();
  const doc = new Y.Doc();
  let bytes = 0;
  let roundTrips = 0;
  for (let from = 1; ; ) {
    const res = await request("GET", `${url}/v1/stations/${station}/messages?from=${from}&limit=1000`, { token: BENCH_ADMIN_TOKEN, timeoutMs: 120_000 });
    roundTrips += 1;
    bytes += Buffer.byteLength(res.text);
    const page = JSON.parse(res.text);
    if (page.messages.length === 0) break;
    Y.transact(doc, () => {
      for (const m of page.messages) Y.applyUpdate(doc, fromB64(m.body.$binary));
    });
    from = page.nextOffset;
  }
  return { ms: performance.now() - started, bytes, updateBytes: null, roundTrips, text: doc.getText("body").toString() };
}

async function waitForCompaction(url, station) {
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(200)) {
    const state = await requestJson("POST", `${url}/v1/stations/${station}/doc`, { json: {}, token: BENCH_ADMIN_TOKEN });
    if (state.snapshotOffset >= UPDATES - 500) return state.snapshotOffset;
  }
  throw new Error("compaction did not catch up");
}

const stateDir = mkdtempSync(join(tmpdir(), "waystation-bench-docs-"));
const scenarios = {
  "doc, compacted (snapshot + tail)": (url) => catchUpWithDoc(url, "bench-doc-compacted"),
  "doc, never compacted (whole log merged per read)": (url) => catchUpWithDoc(url, "bench-doc-raw"),
  "replay of the raw update log": (url) => catchUpWithReplay(url, "bench-doc-raw"),
};
const cold = {};
const warm = {};
let worker;
try {
  const { doc, updates } = typingUpdates(UPDATES);
  const expected = doc.getText("body").toString();
  const rawBytes = updates.reduce((n, u) => n + u.byteLength, 0);
  log(`${updates.length} updates, ${rawBytes} bytes of raw updates, final text ${expected.length} characters`);
  worker = await startWorker(stateDir);
  const put = (station, config) => requestJson("PUT", `${worker.url}/v1/stations/${station}`, { json: config, token: BENCH_ADMIN_TOKEN, expectStatus: 201 });
  await put("bench-doc-compacted", { kind: "doc" });
  await put("bench-doc-raw", { kind: "doc", doc: { compactAfterUpdates: 1_000_000, compactAfterBytes: 1024 * 1024 * 1024 } });
  log("producing…");
  await Promise.all([produceAll(worker.url, "bench-doc-compacted", updates), produceAll(worker.url, "bench-doc-raw", updates)]);
  log(`compacted through offset ${await waitForCompaction(worker.url, "bench-doc-compacted")}`);
  for (let run = 1; run <= RUNS; run++) {
    // A restart empties the objects' memory: the first read of each is cold.
    await worker.stop();
    worker = await startWorker(stateDir);
    for (const [name, measure] of Object.entries(scenarios)) {
      const first = await measure(worker.url);
      const second = await measure(worker.url);
      for (const r of [first, second]) if (r.text !== expected) throw new Error(`${name}: the caught-up text differs`);
      (cold[name] ??= []).push(first);
      (warm[name] ??= []).push(second);
      log(`run ${run}/${RUNS} ${name}: cold ${first.ms.toFixed(1)} ms, warm ${second.ms.toFixed(1)} ms`);
    }
  }
  const median = (rs, key) => percentile(rs.map((r) => r[key]), 50);
  console.log(`\nCatch-up of a new client on a document of ${UPDATES} updates (${rawBytes} raw update bytes), median of ${RUNS} runs`);
  console.log("| how | round trips | bytes on the wire | merged update bytes | cold ms | warm ms |");
  console.log("|---|---|---|---|---|---|");
  for (const name of Object.keys(scenarios)) {
    const c = cold[name];
    const w = warm[name];
    console.log(`| ${name} | ${c[0].roundTrips} | ${c[0].bytes} | ${c[0].updateBytes ?? "—"} | ${median(c, "ms").toFixed(1)} | ${median(w, "ms").toFixed(1)} |`);
  }
} finally {
  await worker?.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
