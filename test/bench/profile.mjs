// `node test/bench/profile.mjs [workload] [seconds] [ceiling]`: a CPU profile of Waystation's
// isolate (the Worker and its Durable Objects) under wrangler dev while one workload runs, taken
// over the inspector wrangler dev exposes. Prints self time by source module and function, and
// writes a .cpuprofile (open it in Chrome DevTools). Workloads: produce100, produce100seq,
// produce1, produce1seq, read100, hello (all under the bench's autocannon load, 16 connections),
// fetch100, fetch100carried, socket, and on stations of 1 and 8 partitions: partitions1 /
// partitions8 (produce of 100 keyed messages, keys mixed), partitions1grouped /
// partitions8grouped (each batch's keys on one partition), partitions1single /
// partitions8single (1 per request), partitions1fetch / partitions8fetch (group fetch(100) +
// ack) (Waystation only). With `ceiling` last, the bare Durable Object of test/bench/ceiling instead.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeConnections } from "./lib/http.mjs";
import { ROOT } from "./lib/wrangler-dev.mjs";
import { waystationAdapter } from "./suites/waystation-api.mjs";
import { groupMeasurements } from "./suites/waystation-groups.mjs";
import { ceilingAdapter, startCeiling } from "./suites/ceiling.mjs";
import { httpMeasurements } from "./suites/http-workloads.mjs";
import { partitionMeasurements, skipReasons } from "./suites/waystation-partitions.mjs";
import { startWaystation } from "./suites/waystation.mjs";

const workload = process.argv[2] ?? "produce100";
const seconds = Math.min(60, Number(process.argv[3] ?? 5));
const system = process.argv[4] === "ceiling" ? "ceiling" : "waystation";

const SAMPLING_INTERVAL_US = 200;
const MAX_SAMPLE_WEIGHT_US = 4 * SAMPLING_INTERVAL_US;

/** Minimal Chrome DevTools Protocol client over the inspector WebSocket. */
async function connectInspector(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  // The inspector proxy of wrangler dev only accepts local origins.
  const socket = new WebSocket(targets[0].webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("inspector connection failed"));
  });
  let nextId = 1;
  const pending = new Map();
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.id && pending.has(message.id)) {
      pending.get(message.id)(message);
      pending.delete(message.id);
    }
  };
  return {
    send(method, params = {}) {
      const id = nextId++;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${method}: no answer`)), 60_000);
        pending.set(id, (m) => {
          clearTimeout(timer);
          m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result);
        });
      });
    },
    close: () => socket.close(),
  };
}

/** Source module of each line of the esbuild bundle, from its `// path/file.ts` markers. */
function moduleOfLine(bundleText) {
  const modules = [];
  let current = "(bundle)";
  for (const line of bundleText.split("\n")) {
    const m = /^\/\/ ((?:worker|shared|node_modules)\/\S+)$/.exec(line);
    if (m) current = m[1].replace(/^node_modules\/([^/]+)\/.*$/, "node_modules/$1");
    modules.push(current);
  }
  return modules;
}

/**
 * Self time by source module, and inclusive time (self + callees) by function, as shares of the
 * profile and as µs per message: a function V8 inlined, or a fast native call such as
 * SqlStorage.exec, counts in its caller's self time. Sampled wall time, each sample capped at 4
 * intervals (a longer gap is the thread waiting for a core); still, compare shares, or runs side by side.
 */
function summarizeProfile(profile, modules, messages) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const totalUs = profile.timeDeltas.slice(1).reduce((sum, dt) => sum + Math.min(dt, MAX_SAMPLE_WEIGHT_US), 0);
  const label = (callFrame) => {
    const where = callFrame.url ? (modules[callFrame.lineNumber] ?? callFrame.url) : "native";
    return `${callFrame.functionName || "(anonymous)"} (${where}:${callFrame.lineNumber + 1})`;
  };
  const byModule = new Map();
  const inclusive = new Map();
  profile.samples.forEach((id, i) => {
    // A gap much longer than the sampling interval is the thread waiting for a core on a
    // shared machine, not work of the sampled frame: each sample weighs at most 4 intervals.
    const dt = Math.min(profile.timeDeltas[i + 1] ?? 0, MAX_SAMPLE_WEIGHT_US);
    const { callFrame } = nodes.get(id);
    const module = callFrame.url ? (modules[callFrame.lineNumber] ?? callFrame.url) : callFrame.functionName;
    byModule.set(module, (byModule.get(module) ?? 0) + dt);
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const key = label(nodes.get(cur).callFrame);
      if (seen.has(key)) continue; // recursion counts once
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const top = (map, n) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}% ${(us / messages).toFixed(1).padStart(8)} µs/msg  ${k}`);
  return { totalUs, modules: top(byModule, 25), functions: top(inclusive, 45) };
}

/** The same measurements as `npm run bench`, by short name (ids without the system). */
const WORKLOADS = {
  produce100: "produce.b100",
  produce100seq: "produce.b100.seq",
  produce1: "produce.b1",
  produce1seq: "produce.b1.seq",
  read100: "read.b100",
  hello: "hello",
  fetch100: "group.fetch100",
  fetch100carried: "group.fetch100.carried",
  socket: "group.socket",
  partitions1: "partitions.produce.p1",
  partitions8: "partitions.produce.p8",
  partitions1grouped: "partitions.produce.grouped.p1",
  partitions8grouped: "partitions.produce.grouped.p8",
  partitions1single: "partitions.produce1.p1",
  partitions8single: "partitions.produce1.p8",
  partitions1fetch: "partitions.fetch100.p1",
  partitions8fetch: "partitions.fetch100.p8",
};
/** Workloads that fill a station before the timed part: the profiler starts after the fill. */
const FILLING = new Set(["fetch100", "fetch100carried", "socket", "partitions1fetch", "partitions8fetch"]);

let round = 0;
let measurement = null;
/** Runs the workload once; the measurement is made once, so the read station is filled once (by the warm-up). */
async function runWorkload(worker, hooks) {
  if (!measurement) {
    const profile = { connections: 16, seconds, readFill: 10_000, fetchFill: 100_000, latencySamples: 10 };
    const adapter = system === "waystation" ? waystationAdapter(worker) : ceilingAdapter(worker);
    const ours = system === "waystation" ? [...groupMeasurements(worker, profile), ...(await partitionMeasurements(worker, profile))] : [];
    const all = [...httpMeasurements(system, adapter, profile), ...ours];
    measurement = all.find((m) => m.id === `${system}.${WORKLOADS[workload]}`);
    const skipped = Object.entries(skipReasons).find(([w]) => WORKLOADS[workload]?.startsWith(`${w}.`));
    if (!measurement && skipped) throw new Error(`${workload}: ${skipped[1]}`);
    if (!measurement) throw new Error(`unknown workload ${workload} for ${system} (${Object.keys(WORKLOADS).join(", ")})`);
  }
  return measurement.run(++round, hooks);
}

const worker = system === "waystation" ? await startWaystation() : await startCeiling();
try {
  const args = readFileSync(`/proc/${worker.pid}/cmdline`, "utf8").split("\0");
  const inspectorPort = args[args.indexOf("--inspector-port") + 1];
  const inspector = await connectInspector(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US });
  await runWorkload(worker); // warm-up, not profiled
  // Group workloads fill their station first: the profiler starts once that is done.
  let started = false;
  const start = async () => {
    if (!started) await inspector.send("Profiler.start");
    started = true;
  };
  if (!FILLING.has(workload)) await start();
  const result = await runWorkload(worker, { filled: start });
  if (!started) throw new Error("the profiler never started");
  const { profile } = await inspector.send("Profiler.stop");
  inspector.close();

  const modules = worker.bundlePath ? moduleOfLine(readFileSync(worker.bundlePath, "utf8")) : [];
  const summary = summarizeProfile(profile, modules, result.messages);
  const out = join(ROOT, "test", "artifacts", "bench", `${system}-${workload}.cpuprofile`);
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileSync(out, JSON.stringify(profile));
  console.log(`${system} ${workload}: ${Math.round(result.perSecond)} msg/s over ${(result.elapsedMs / 1000).toFixed(1)} s; profile ${(summary.totalUs / 1e6).toFixed(1)} s of the isolate`);
  console.log("\nself time by source module:\n" + summary.modules.join("\n"));
  console.log("\ninclusive time by function (self + callees):\n" + summary.functions.join("\n"));
  console.log(`\nfull profile: ${out}`);
} finally {
  await worker.stop();
  closeConnections();
}
