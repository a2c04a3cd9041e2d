// `npm run bench`: Waystation in wrangler dev beside its peers (the bare Durable Object
// ceiling, Cloudflare Queues as wrangler dev runs them, NATS JetStream), all on this machine
// and 127.0.0.1, in one run; prints one report. `-- --quick` is the CI smoke version: it fails
// on errors only, never on slowness. See docs/benchmarks.md for what each figure means.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkFsync, straceAvailable } from "./fsync-check.mjs";
import { closeConnections } from "./lib/http.mjs";
import { bodyBytes } from "./lib/payload.mjs";
import { cpuDelta } from "./lib/processes.mjs";
import { renderFsync, renderReport } from "./lib/report.mjs";
import { ROOT } from "./lib/wrangler-dev.mjs";
import { ceilingMeasurements, startCeiling } from "./suites/ceiling.mjs";
import { natsMeasurements, natsUnavailableReason, startNats } from "./suites/nats.mjs";
import { queuesMeasurements, startQueues } from "./suites/queues.mjs";
import { startWaystation, waystationMeasurements } from "./suites/waystation.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "fsync-check": { type: "boolean", default: false },
    "no-fsync": { type: "boolean", default: false },
    observability: { type: "boolean", default: false },
    runs: { type: "string" },
    seconds: { type: "string" },
    only: { type: "string" },
    json: { type: "string" },
  },
});

const profile = args.quick
  ? { runs: 1, warmup: false, maxMs: 300, maxMessages: 2_000, latencySamples: 10, fetchMessages: 300, webhookMessages: 20, outboxActions: 100, fsyncWrites: 0 }
  : { runs: 5, warmup: true, maxMs: 3_000, maxMessages: 300_000, latencySamples: 200, fetchMessages: 10_000, webhookMessages: 1_000, outboxActions: 10_000, fsyncWrites: 20 };
if (args.runs) profile.runs = Math.max(1, Math.min(50, Number(args.runs)));
if (args.seconds) profile.maxMs = Math.max(100, Math.min(60_000, Number(args.seconds) * 1000));

if (args.observability) process.env.BENCH_OBSERVABILITY = "1";

const SYSTEMS = {
  waystation: [startWaystation, waystationMeasurements],
  ceiling: [startCeiling, ceilingMeasurements],
  queues: [startQueues, queuesMeasurements],
  nats: [startNats, natsMeasurements],
};
const log = (line) => console.error(`[bench] ${line}`);
/** Peers that cannot run on this machine, with why: left out of the run and named in the report. */
const skipped = {};
const requested = args.only ? args.only.split(",").filter((s) => s in SYSTEMS) : Object.keys(SYSTEMS);
if (requested.includes("nats") && natsUnavailableReason()) skipped.nats = natsUnavailableReason();
const selected = requested.filter((s) => !(s in skipped));
for (const [system, why] of Object.entries(skipped)) log(`skipping ${system}: ${why}`);

async function measureAll() {
  const runtimes = {};
  const measurements = [];
  try {
    for (const system of selected) {
      const [start, measure] = SYSTEMS[system];
      log(`starting ${system}…`);
      runtimes[system] = await start();
      measurements.push(...(await measure(runtimes[system], profile)));
    }
    if (profile.warmup) {
      // An untimed round 0 of every measurement: JIT, SQLite pages and connections warm up.
      const short = { ...profile, maxMs: 500, latencySamples: 10, fetchMessages: 500, webhookMessages: 20, outboxActions: 100 };
      log("warm-up round…");
      for (const m of await warmupMeasurements(runtimes, short)) {
        await m.run(0);
        await m.close?.();
      }
    }
    const results = {};
    // Round after round over every measurement, so drift of the machine hits all systems alike.
    for (let round = 1; round <= profile.runs; round++) {
      for (const m of measurements) {
        if (m.maxRuns !== undefined && round > m.maxRuns) continue;
        const runtime = runtimes[m.id.split(".")[0]];
        const cpuBefore = runtime.cpuMs();
        const result = await m.run(round);
        result.serverCpuMs = cpuDelta(cpuBefore, runtime.cpuMs());
        (results[m.id] ??= []).push(result);
        const rate = Number.isFinite(result.perSecond) ? `${Math.round(result.perSecond)} msg/s` : `${result.latenciesMs.length} samples`;
        log(`run ${round}/${profile.runs} ${m.id}: ${rate}`);
      }
    }
    const memory = {};
    for (const [system, runtime] of Object.entries(runtimes)) memory[system] = runtime.memory();
    return { results, memory, code: runtimes.waystation?.code ?? null };
  } finally {
    for (const m of measurements) await m.close?.().catch((error) => log(`closing ${m.id}: ${error}`));
    for (const runtime of Object.values(runtimes)) await runtime.stop().catch((error) => log(`stopping ${runtime.name}: ${error}`));
  }
}

async function warmupMeasurements(runtimes, short) {
  const all = [];
  for (const [system, runtime] of Object.entries(runtimes)) all.push(...(await SYSTEMS[system][1](runtime, short)));
  return all;
}

function machine() {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

async function main() {
  const meta = { ...profile, observability: args.observability, bodyBytes: bodyBytes(), when: new Date().toISOString(), machine: machine(), args: process.argv.slice(2) };
  const wantFsync = args["fsync-check"] || (profile.fsyncWrites > 0 && !args["no-fsync"]);
  let fsync = null;
  if (args["fsync-check"] && !straceAvailable()) throw new Error("strace is not installed (apt-get install -y strace)");

  let results = {};
  let memory = {};
  if (!args["fsync-check"]) ({ results, memory, code: meta.code } = await measureAll());
  if (wantFsync && straceAvailable()) fsync = await checkFsync({ systems: selected, writes: profile.fsyncWrites || 20, log });
  else if (wantFsync) log("strace not found: skipping the fsync check (apt-get install -y strace)");
  closeConnections();

  const report = [`Machine: ${meta.machine}`, ""];
  for (const [system, why] of Object.entries(skipped)) report.push(`Skipped ${system}: ${why}.`, "");
  meta.skipped = skipped;
  if (!args["fsync-check"]) report.push(renderReport({ results, fsync, memory, meta }), "");
  if (fsync) report.push("fsync check (strace -f -e trace=fsync,fdatasync,sync_file_range,syncfs,msync):", "", renderFsync(fsync), "");
  console.log(report.join("\n"));

  const out = args.json ?? join(ROOT, "test", "artifacts", "bench", args.quick ? "quick.json" : args["fsync-check"] ? "fsync.json" : "results.json");
  mkdirSync(join(out, ".."), { recursive: true });
  writeFileSync(out, JSON.stringify({ meta, results: stripSamples(results), fsync, memory }, null, 1));
  log(`raw figures: ${out}`);
}

/** Keeps the JSON small: latencies become percentiles. */
function stripSamples(results) {
  return Object.fromEntries(
    Object.entries(results).map(([id, runs]) => [
      id,
      runs.map(({ latenciesMs, ...rest }) => ({ ...rest, latencySamples: latenciesMs?.length ?? 0 })),
    ]),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] failed: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
