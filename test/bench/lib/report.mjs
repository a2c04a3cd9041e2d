// Turns the raw per-run results into the printed report: one table of every figure, one of
// the ratios issue 8 sets goals for, and one of peak memory. Markdown, so docs can quote it.
import { formatMs, formatRate, formatRatio, formatSpread, percentile, spread } from "./stats.mjs";

/** Row order and labels of the main table: [id, workload, system]. */
const ROWS = [
  ["waystation.produce.b1.c1", "produce, 1 msg/request, 1 client", "Waystation"],
  ["ceiling.produce.b1.c1", "produce, 1 msg/request, 1 client", "bare DO (ceiling)"],
  ["waystation.produce.b1.c4", "produce, 1 msg/request, 4 clients", "Waystation"],
  ["ceiling.produce.b1.c4", "produce, 1 msg/request, 4 clients", "bare DO (ceiling)"],
  ["queues.send.b1.c4", "produce, 1 msg/request, 4 clients", "CF Queues (local)"],
  ["waystation.produce.b10.c4", "produce, 10 msg/request, 4 clients", "Waystation"],
  ["ceiling.produce.b10.c4", "produce, 10 msg/request, 4 clients", "bare DO (ceiling)"],
  ["queues.send.b10.c4", "produce, 10 msg/request, 4 clients", "CF Queues (local)"],
  ["waystation.produce.b100.c4", "produce, 100 msg/request, 4 clients", "Waystation"],
  ["waystation.produce-schema.b100.c4", "produce, 100 msg/request, 4 clients, JSON Schema attached", "Waystation"],
  ["waystation.produce-schema.b1.c4", "produce, 1 msg/request, 4 clients, JSON Schema attached", "Waystation"],
  ["ceiling.produce.b100.c4", "produce, 100 msg/request, 4 clients", "bare DO (ceiling)"],
  ["queues.send.b100.c4", "produce, 100 msg/request, 4 clients", "CF Queues (local)"],
  ["nats.publish.sync", "publish with ack, 1 in flight", "JetStream"],
  ["nats.publish.pipelined", "publish with ack, 1,000 in flight", "JetStream"],
  ["waystation.group.fetch100", "fetch(100) + ack", "Waystation"],
  ["waystation.group.fetch100.carried", "fetch(100) carrying the previous batch's acks", "Waystation"],
  ["nats.fetch100", "fetch(100) + ack", "JetStream"],
  ["queues.send.b100.c4:consumedPerSecond", "consume (queue handler, batches ≤ 100)", "CF Queues (local)"],
  ["waystation.e2e.longpoll", "produce→consume latency, long-poll", "Waystation"],
  ["waystation.e2e.websocket", "produce→consume latency, WebSocket", "Waystation"],
  ["nats.e2e", "publish→consume latency, pull consume()", "JetStream"],
  ["queues.e2e", "send→consume latency, queue handler", "CF Queues (local)"],
  ["waystation.webhooks.ordered", "webhook deliveries, ordered (1 in flight)", "Waystation"],
  ["waystation.webhooks.unordered", "webhook deliveries, unordered (6 in flight)", "Waystation"],
  ["waystation.webhooks.fanout10", "webhook deliveries, fan-out to 10 ordered endpoints", "Waystation"],
  ["waystation.webhooks.e2e", "produce→webhook delivery latency, 1 receiver", "Waystation"],
  ["waystation.webhooks.e2e.fanout10", "produce→webhook delivery latency, each of 10 receivers", "Waystation"],
  ["waystation.outbox:enqueuePerSecond", "browser outbox: enqueue offline, 1 at a time (IndexedDB commit)", "Waystation SDK, Chromium"],
  ["waystation.outbox", "browser outbox: drain {outboxActions} queued actions once online", "Waystation SDK, Chromium"],
  ["waystation.hello", "hello world: GET /healthz, 1 client", "Waystation (Hono)"],
  ["ceiling.hello", "hello world: GET /healthz, 1 client", "bare Worker"],
];

/** Where the fsync check's answer for a row comes from. */
const SYNC_SOURCE = { waystation: "waystation", ceiling: "ceiling", queues: "queues", nats: "nats" };

/** [label, Waystation id, peer id, goal or null]. Ratios are taken per run, then the median. */
const RATIOS = [
  ["produce 100 msg/request vs bare DO ceiling", "waystation.produce.b100.c4", "ceiling.produce.b100.c4", 0.8],
  ["produce 10 msg/request vs bare DO ceiling", "waystation.produce.b10.c4", "ceiling.produce.b10.c4", null],
  ["produce 1 msg/request vs bare DO ceiling (4 clients)", "waystation.produce.b1.c4", "ceiling.produce.b1.c4", null],
  ["produce 100 msg/request vs JetStream publish, 1,000 in flight", "waystation.produce.b100.c4", "nats.publish.pipelined", 2],
  ["produce 1 msg/request, 1 client vs JetStream publish, 1 in flight", "waystation.produce.b1.c1", "nats.publish.sync", null],
  ["group fetch(100)+ack vs JetStream fetch(100)+ack", "waystation.group.fetch100", "nats.fetch100", 1],
  ["group fetch(100) carrying acks vs JetStream fetch(100)+ack", "waystation.group.fetch100.carried", "nats.fetch100", 1],
  ["produce 100 msg/request vs Queues sendBatch(100)", "waystation.produce.b100.c4", "queues.send.b100.c4", 2],
  ["produce 10 msg/request vs Queues sendBatch(10)", "waystation.produce.b10.c4", "queues.send.b10.c4", null],
  ["produce 1 msg/request vs Queues send(1)", "waystation.produce.b1.c4", "queues.send.b1.c4", null],
  ["produce 100 msg/request with a typical schema vs none", "waystation.produce-schema.b100.c4", "waystation.produce.b100.c4", 0.8],
  ["produce 1 msg/request with a typical schema vs none", "waystation.produce-schema.b1.c4", "waystation.produce.b1.c4", 0.8],
];

/** Per-run figure of a row id ("id" or "id:extraName"), one entry per run. */
function perRun(results, rowId) {
  const [id, extra] = rowId.split(":");
  return (results[id] ?? []).map((r) => (extra ? r.extras?.[extra] : r.perSecond));
}

/**
 * Server CPU µs per message of each run: of the runtime process (workerd running the Worker, or
 * nats-server) or, with `all`, of every process (plus wrangler dev's proxy workerd and node).
 */
function cpuPerMessage(results, rowId, all = false) {
  const [id, extra] = rowId.split(":");
  if (extra) return [];
  return (results[id] ?? []).map((r) => {
    if (!(r.messages > 0) || !r.serverCpuMs) return NaN;
    const ms = all ? Object.values(r.serverCpuMs).reduce((a, b) => a + b, 0) : r.serverCpuMs.runtime;
    return (ms * 1000) / r.messages;
  });
}

function pooledLatencies(results, rowId) {
  const [id, extra] = rowId.split(":");
  if (extra) return [];
  return (results[id] ?? []).flatMap((r) => r.latenciesMs ?? []);
}

function syncNote(fsync, rowId) {
  const system = SYNC_SOURCE[rowId.split(".")[0]];
  const check = fsync?.[system];
  if (!check) return "not checked";
  if (check.error) return `check failed: ${check.error}`;
  if (!/produce|publish|send/.test(rowId) || rowId.includes("consumed")) return "";
  const verdict = check.synced === check.writes ? "yes" : check.synced === 0 ? "no" : "partly";
  return `${verdict} (${check.synced}/${check.writes})`;
}

export function summarize(results) {
  const rows = {};
  for (const [rowId] of ROWS) {
    const values = perRun(results, rowId);
    if (values.length === 0) continue;
    const latencies = pooledLatencies(results, rowId);
    rows[rowId] = {
      throughput: spread(values),
      cpuUsPerMessage: spread(cpuPerMessage(results, rowId)),
      allCpuUsPerMessage: spread(cpuPerMessage(results, rowId, true)),
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      samples: latencies.length,
    };
  }
  const ratios = RATIOS.map(([label, ours, theirs, goal]) => {
    const a = perRun(results, ours);
    const b = perRun(results, theirs);
    const each = a.map((v, i) => v / b[i]).filter((v) => Number.isFinite(v));
    const ratio = spread(each);
    // The same comparison by server CPU per message (theirs / ours: above 1 means we use less).
    const cpuA = cpuPerMessage(results, ours);
    const cpuB = cpuPerMessage(results, theirs);
    const cpuRatio = spread(cpuB.map((v, i) => v / cpuA[i]).filter((v) => Number.isFinite(v)));
    return { label, ours, theirs, goal, ratio, cpuRatio, met: goal === null || !Number.isFinite(ratio.median) ? null : ratio.median >= goal };
  });
  return { rows, ratios };
}

export function renderReport({ results, fsync, memory, meta }) {
  const { rows, ratios } = summarize(results);
  const out = [];
  out.push(`Runs: ${meta.runs} per figure · ${meta.maxMs} ms or ${meta.maxMessages.toLocaleString("en-US")} messages per run · body ${meta.bodyBytes} B · wrangler dev local observability ${meta.observability ? "on" : "off"} · ${meta.when}`);
  if (meta.code) out.push(`Waystation code: commit ${meta.code.commit}${meta.code.dirtyFiles ? ` + ${meta.code.dirtyFiles} uncommitted files in worker/ and shared/` : ""}`);
  out.push("");
  out.push("| workload | system | msg/s, median (min–max) | p50 ms | p99 ms | runtime CPU µs/msg | all processes CPU µs/msg | acked write fsynced |");
  out.push("|---|---|---:|---:|---:|---:|---:|---|");
  for (const [rowId, workload, system] of ROWS) {
    const row = rows[rowId];
    if (!row) continue;
    const rate = Number.isFinite(row.throughput.median) ? formatSpread(row.throughput) : "–";
    const cpu = formatRate(row.cpuUsPerMessage.median);
    const allCpu = formatRate(row.allCpuUsPerMessage.median);
    const label = workload.replace("{outboxActions}", (meta.outboxActions ?? 0).toLocaleString("en-US"));
    out.push(`| ${label} | ${system} | ${rate} | ${formatMs(row.p50)} | ${formatMs(row.p99)} | ${cpu} | ${allCpu} | ${syncNote(fsync, rowId)} |`);
  }
  out.push("");
  out.push("| ratio (Waystation / peer, per run) | msg/s ratio, median (min–max) | goal | met | by runtime CPU/msg (peer / Waystation) |");
  out.push("|---|---:|---:|---|---:|");
  for (const r of ratios) {
    if (!Number.isFinite(r.ratio.median)) continue;
    const met = r.met === null ? "" : r.met ? "yes" : "**no**";
    out.push(`| ${r.label} | ${formatSpread(r.ratio, formatRatio)} | ${r.goal === null ? "–" : `≥ ${r.goal}×`} | ${met} | ${formatSpread(r.cpuRatio, formatRatio)} |`);
  }
  out.push("");
  out.push("| runtime | peak RSS (VmHWM) per process, MiB |");
  out.push("|---|---|");
  for (const [name, byProcess] of Object.entries(memory)) {
    const parts = Object.entries(byProcess).map(([proc, kib]) => `${proc} ${(kib / 1024).toFixed(0)}`);
    out.push(`| ${name} | ${parts.join(" · ")} |`);
  }
  return out.join("\n");
}

export function renderFsync(fsync) {
  const out = ["| system | acked writes | with a sync call completing before the ack | sync calls in the window | files synced |", "|---|---:|---:|---|---|"];
  for (const [system, c] of Object.entries(fsync)) {
    if (c.error) {
      out.push(`| ${system} | – | – | check failed: ${c.error} | |`);
      continue;
    }
    const kinds = Object.entries(c.callsByKind).map(([k, n]) => `${k} ×${n}`).join(", ") || "none";
    out.push(`| ${system} | ${c.writes} | ${c.synced} | ${kinds} | ${c.files.join(", ") || "–"} |`);
  }
  return out.join("\n");
}
