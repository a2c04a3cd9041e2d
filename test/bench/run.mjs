// `npm run bench`: Waystation in wrangler dev beside its peers (the bare SQLite Durable Object
// and bare Worker of test/bench/ceiling, NATS JetStream when nats-server is on PATH), all on
// this machine and 127.0.0.1, under the same autocannon load, in interleaved rounds; prints one
// report with medians, ranges and ratios taken within a round. `-- --quick` is the CI smoke
// version: it fails on errors only, never on slowness. See docs/benchmarks.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { checkFsync, straceAvailable } from "./fsync-check.mjs";
import { closeConnections } from "./lib/http.mjs";
import { bodyBytes } from "./lib/payload.mjs";
import { cpuDelta } from "./lib/processes.mjs";
import { renderFsync, renderReport } from "./lib/report.mjs";
import { percentile } from "./lib/stats.mjs";
import { ROOT } from "./lib/wrangler-dev.mjs";
import { ceilingMeasurements, startCeiling } from "./suites/ceiling.mjs";
import { HTTP_WORKLOADS } from "./suites/http-workloads.mjs";
import { natsMeasurements, natsUnavailableReason, startNats } from "./suites/nats.mjs";
import { skipReasons as partitionSkipReasons } from "./suites/waystation-partitions.mjs";
import { startWaystation, waystationMeasurements } from "./suites/waystation.mjs";

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "fsync-check": { type: "boolean", default: false },
    "no-fsync": { type: "boolean", default: false },
    observability: { type: "boolean", default: false },
    connections: { type: "string" },
    rounds: { type: "string" },
    seconds: { type: "string" },
    only: { type: "string" },
    json: { type: "string" },
    ref: { type: "string" },
  },
});

/** Counts and durations of one run; `--quick` keeps the smoke test well under 2 minutes. */
const profile = args.quick
  ? { connections: 4, rounds: 1, warmup: false, seconds: 0.4, readFill: 500, fetchFill: 500, latencySamples: 10, webhookMessages: 10, outboxActions: 0, fsyncWrites: 0 }
  : { connections: 16, rounds: 3, warmup: true, seconds: 8, readFill: 20_000, fetchFill: 100_000, latencySamples: 200, webhookMessages: 500, outboxActions: 2_000, fsyncWrites: 20 };
if (args.connections) profile.connections = Math.max(1, Math.min(1_000, Number(args.connections)));
if (args.rounds) profile.rounds = Math.max(1, Math.min(50, Number(args.rounds)));
if (args.seconds) profile.seconds = Math.max(0.2, Math.min(120, Number(args.seconds)));

if (args.observability) process.env.BENCH_OBSERVABILITY = "1";
// Bundle a commit instead of the work tree (see lib/snapshot.mjs).
if (args.ref) process.env.BENCH_REF = args.ref;

const SYSTEMS = {
  waystation: [startWaystation, waystationMeasurements],
  ceiling: [startCeiling, ceilingMeasurements],
  nats: [startNats, natsMeasurements],
};
/**
 * Suites `--only` can name on their own: a system's workloads whose names start with the suite's
 * (`--only partitions` runs Waystation's partitioned stations and nothing else of it).
 */
const SUITES = { partitions: "waystation" };
const log = (line) => console.error(`[bench] ${line}`);
/** Peers that cannot run on this machine, with why: left out of the run and named in the report. */
const skipped = {};
const named = args.only ? args.only.split(",") : Object.keys(SYSTEMS);
const unknown = named.filter((s) => !(s in SYSTEMS) && !(s in SUITES));
if (unknown.length > 0) throw new Error(`--only: unknown ${unknown.join(", ")} (systems: ${Object.keys(SYSTEMS).join(", ")}; suites: ${Object.keys(SUITES).join(", ")})`);
const requested = [...new Set(named.map((s) => SUITES[s] ?? s))];
/** Per system named only through its suites: the workload prefixes it runs. */
const onlySuites = {};
for (const suite of named.filter((s) => s in SUITES)) if (!named.includes(SUITES[suite])) (onlySuites[SUITES[suite]] ??= []).push(`${suite}.`);
if (requested.includes("nats") && natsUnavailableReason()) skipped.nats = natsUnavailableReason();
const selected = requested.filter((s) => !(s in skipped));
for (const [system, why] of Object.entries(skipped)) log(`skipping ${system}: ${why}`);
if (profile.outboxActions === 0 && selected.includes("waystation")) log("--quick: the browser (SDK) figure is left out");

/** The order of workloads in a round: the same workload of every system back to back. */
const WORKLOAD_ORDER = [...HTTP_WORKLOADS.map(([w]) => w), "group.fetch100", "group.fetch100.carried", "group.socket", "e2e", "webhooks.ordered", "webhooks.unordered", "partitions.produce", "partitions.produce.grouped", "partitions.produce1", "partitions.fetch100", "outbox"];

/**
 * One round: workload by workload, every system's measurement of it back to back, the systems'
 * order reversed every other round so neither always runs first on a warmer or busier machine;
 * so is the order of a workload's variants within a system (1 and 8 partitions).
 */
function roundOrder(measurements, round) {
  const sign = round % 2 === 0 ? -1 : 1;
  const rank = (m) => WORKLOAD_ORDER.indexOf(m.workload);
  const systemRank = (m) => selected.indexOf(m.id.split(".")[0]) * sign;
  const variantRank = (m) => (m.variant ?? 0) * sign;
  return [...measurements].sort((a, b) => rank(a) - rank(b) || systemRank(a) - systemRank(b) || variantRank(a) - variantRank(b));
}

async function measurementsOf(runtimes, runProfile) {
  const all = [];
  for (const [system, runtime] of Object.entries(runtimes)) {
    const prefixes = onlySuites[system];
    const ofSystem = await SYSTEMS[system][1](runtime, runProfile);
    all.push(...(prefixes ? ofSystem.filter((m) => prefixes.some((p) => m.workload.startsWith(p))) : ofSystem));
  }
  return all;
}

async function measureAll() {
  const runtimes = {};
  let measurements = [];
  try {
    // Every system is up before the first measurement, so all share the machine alike; they
    // start side by side (each in its own process group and state dir).
    log(`starting ${selected.join(", ")}…`);
    const started = await Promise.allSettled(selected.map((system) => SYSTEMS[system][0]()));
    started.forEach((s, i) => {
      if (s.status === "fulfilled") runtimes[selected[i]] = s.value;
    });
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    if (profile.warmup) {
      // An untimed round 0: JIT, SQLite pages and connections warm up.
      const short = { ...profile, seconds: 1, readFill: 1_000, fetchFill: 2_000, latencySamples: 10, webhookMessages: 20, outboxActions: 100 };
      log("warm-up round…");
      const warm = await measurementsOf(runtimes, short);
      for (const m of roundOrder(warm, 0)) await m.run(0);
      for (const m of warm) await m.close?.();
    }
    measurements = await measurementsOf(runtimes, profile);
    for (const [workload, why] of Object.entries(partitionSkipReasons)) log(`leaving out ${workload}: ${why}`);
    const results = {};
    for (let round = 1; round <= profile.rounds; round++) {
      for (const m of roundOrder(measurements, round)) {
        const runtime = runtimes[m.id.split(".")[0]];
        const cpuBefore = runtime.cpuMs();
        const result = await m.run(round);
        result.serverCpuMs = cpuDelta(cpuBefore, runtime.cpuMs());
        if (result.latenciesMs?.length) {
          result.p50 = percentile(result.latenciesMs, 50);
          result.p99 = percentile(result.latenciesMs, 99);
        }
        (results[m.id] ??= []).push(result);
        const rate = Number.isFinite(result.perSecond) ? `${Math.round(result.perSecond)} msg/s` : `${result.latenciesMs.length} samples`;
        log(`round ${round}/${profile.rounds} ${m.id}: ${rate}, p50 ${result.p50?.toFixed?.(2)} ms`);
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

function machine() {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${process.platform}`;
}

async function main() {
  const meta = { ...profile, observability: args.observability, bodyBytes: bodyBytes(), when: new Date().toISOString(), machine: machine(), args: process.argv.slice(2) };
  // A run of suites only (`--only partitions`) leaves the fsync check out: it checks systems.
  const wantFsync = args["fsync-check"] || (profile.fsyncWrites > 0 && !args["no-fsync"] && selected.some((system) => !onlySuites[system]));
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
  meta.skipped = { ...skipped, ...partitionSkipReasons };
  for (const [workload, why] of Object.entries(partitionSkipReasons)) report.push(`Left out ${workload}: ${why}.`, "");
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
