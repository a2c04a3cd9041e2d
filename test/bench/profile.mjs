// `node test/bench/profile.mjs [workload] [seconds] [ceiling]`: a CPU profile of Waystation's
// isolate (the Worker and its Durable Objects) under wrangler dev while one workload runs, taken
// over the inspector wrangler dev exposes. Prints self time by source module and function, and
// writes a .cpuprofile (open it in Chrome DevTools). Workloads: produce100, produce10, produce1,
// fetch100, hello. With `ceiling` last, the bare Durable Object of test/bench/ceiling instead.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkProduceAnswer, measureHttpProduce } from "./lib/http-produce.mjs";
import { closeConnections, request } from "./lib/http.mjs";
import { runClosedLoop } from "./lib/closed-loop.mjs";
import { produceRequestJson } from "./lib/payload.mjs";
import { ROOT } from "./lib/wrangler-dev.mjs";
import { createStation } from "./suites/waystation-api.mjs";
import { groupMeasurements } from "./suites/waystation-groups.mjs";
import { startCeiling } from "./suites/ceiling.mjs";
import { startWaystation } from "./suites/waystation.mjs";

const workload = process.argv[2] ?? "produce100";
const seconds = Math.min(60, Number(process.argv[3] ?? 5));
const system = process.argv[4] === "ceiling" ? "ceiling" : "waystation";

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
 * SqlStorage.exec, counts in its caller's self time. Sampled wall time: on a busy machine the
 * µs include time the thread waited for a core, so compare shares, or runs side by side.
 */
function summarizeProfile(profile, modules, messages) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parent.set(child, n.id);
  const totalUs = profile.endTime - profile.startTime;
  const label = (callFrame) => {
    const where = callFrame.url ? (modules[callFrame.lineNumber] ?? callFrame.url) : "native";
    return `${callFrame.functionName || "(anonymous)"} (${where}:${callFrame.lineNumber + 1})`;
  };
  const byModule = new Map();
  const inclusive = new Map();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i + 1] ?? 0;
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

async function runWorkload(worker) {
  const maxMs = seconds * 1000;
  const produce = async (batch, concurrency) => {
    const station = `profile-${batch}-${Date.now()}`;
    if (system === "waystation") await createStation(worker, station);
    return measureHttpProduce({
      url: system === "waystation" ? `${worker.url}/v1/stations/${station}/messages` : `${worker.url}/append/${station}`,
      token: worker.token,
      batch,
      concurrency,
      maxMs,
      maxMessages: 10_000_000,
      makeBody: produceRequestJson,
      check: checkProduceAnswer,
    });
  };
  if (workload === "produce100") return produce(100, 4);
  if (workload === "produce10") return produce(10, 4);
  if (workload === "produce1") return produce(1, 1);
  if (workload === "fetch100") {
    const [fetch100] = groupMeasurements(worker, { maxMs, fetchMessages: 20_000, latencySamples: 10 });
    return fetch100.run(Date.now());
  }
  if (workload === "hello") {
    return runClosedLoop({ concurrency: 1, maxOps: 1e7, maxMs, op: async () => ((await request("GET", `${worker.url}/healthz`)).status === 200 ? 1 : 0) });
  }
  throw new Error(`unknown workload ${workload}`);
}

const worker = system === "waystation" ? await startWaystation() : await startCeiling();
try {
  const args = readFileSync(`/proc/${worker.pid}/cmdline`, "utf8").split("\0");
  const inspectorPort = args[args.indexOf("--inspector-port") + 1];
  const inspector = await connectInspector(inspectorPort);
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: 200 });
  await runWorkload(worker); // warm-up, not profiled
  await inspector.send("Profiler.start");
  const result = await runWorkload(worker);
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
