// Turns the per-round results into the printed report: one table of every figure, one of the
// ratios issue 18 sets goals for (each taken within a round, then the median and range), and
// one of peak memory. Markdown, so docs can quote it.
import { formatMs, formatRate, formatRatio, formatSpread, spread } from "./stats.mjs";

/** Row order and labels of the main table: [id, workload, system]. */
const ROWS = [
  ["waystation.produce.b1", "produce, 1 msg/request", "Waystation"],
  ["ceiling.produce.b1", "produce, 1 msg/request", "bare DO"],
  ["waystation.produce.b1.seq", "produce, 1 msg/request, producer + seq", "Waystation"],
  ["ceiling.produce.b1.seq", "produce, 1 msg/request, producer + seq", "bare DO"],
  ["waystation.produce.b100", "produce, 100 msg/request", "Waystation"],
  ["ceiling.produce.b100", "produce, 100 msg/request", "bare DO"],
  ["waystation.produce.b100.seq", "produce, 100 msg/request, producer + seq", "Waystation"],
  ["ceiling.produce.b100.seq", "produce, 100 msg/request, producer + seq", "bare DO"],
  ["nats.publish.pipelined", "publish with ack, 1,000 in flight (no fsync)", "JetStream"],
  ["waystation.read.b100", "read 100 by offset", "Waystation"],
  ["ceiling.read.b100", "read 100 by offset", "bare DO"],
  ["waystation.hello", "hello world: GET /healthz", "Waystation (Hono)"],
  ["ceiling.hello", "hello world: GET /healthz", "bare Worker"],
  ["waystation.hello.c1", "hello world: GET /healthz, 1 connection", "Waystation (Hono)"],
  ["ceiling.hello.c1", "hello world: GET /healthz, 1 connection", "bare Worker"],
  ["waystation.group.fetch100", "group fetch(100) + ack (2 requests)", "Waystation"],
  ["waystation.group.fetch100.carried", "group fetch(100) carrying the previous acks", "Waystation"],
  ["waystation.group.socket", "group over WebSocket, credit 100, acks on the socket", "Waystation"],
  ["nats.fetch100", "pull fetch(100) + ack (fire and forget)", "JetStream"],
  ["waystation.e2e.websocket", "produce→consume latency, WebSocket, 1 at a time", "Waystation"],
  ["nats.e2e", "publish→consume latency, consume(), 1 at a time", "JetStream"],
  ["waystation.webhooks.ordered", "webhook deliveries, ordered (1 in flight)", "Waystation"],
  ["waystation.webhooks.unordered", "webhook deliveries, unordered (6 in flight)", "Waystation"],
  ["waystation.partitions.produce.p1", "partitions: produce, 100 keyed msg/request, keys mixed", "Waystation, 1 partition"],
  ["waystation.partitions.produce.p8", "partitions: produce, 100 keyed msg/request, keys mixed", "Waystation, 8 partitions"],
  ["waystation.partitions.produce.grouped.p1", "partitions: produce, 100 keyed msg/request, one partition's keys", "Waystation, 1 partition"],
  ["waystation.partitions.produce.grouped.p8", "partitions: produce, 100 keyed msg/request, one partition's keys", "Waystation, 8 partitions"],
  ["waystation.partitions.produce1.p1", "partitions: produce, 1 keyed msg/request", "Waystation, 1 partition"],
  ["waystation.partitions.produce1.p8", "partitions: produce, 1 keyed msg/request", "Waystation, 8 partitions"],
  ["waystation.partitions.fetch100.p1", "partitions: group fetch(100) + ack by {partition, offset}", "Waystation, 1 partition"],
  ["waystation.partitions.fetch100.p8", "partitions: group fetch(100) + ack by {partition, offset}", "Waystation, 8 partitions"],
  ["waystation.outbox:idbPutPerSecond", "browser: bare IndexedDB put, 1 at a time (strict)", "Chromium"],
  ["waystation.outbox:enqueuePerSecond", "browser: SDK enqueue offline, 1 at a time (strict)", "Waystation SDK, Chromium"],
  ["waystation.outbox", "browser: drain the queued actions once online", "Waystation SDK, Chromium"],
];

/**
 * [label, ours, theirs, goal, kind]. `rate`: ours / theirs by msg/s, goal a floor. `p50`: ours /
 * theirs by p50 latency, goal a ceiling. Each ratio is taken within a round, then summarized.
 */
const RATIOS = [
  ["produce(100) vs the bare object", "waystation.produce.b100", "ceiling.produce.b100", 0.9, "rate"],
  ["produce(100) with producer + seq vs the bare object (same POSTs)", "waystation.produce.b100.seq", "ceiling.produce.b100.seq", null, "rate"],
  ["produce(1) vs the bare object", "waystation.produce.b1", "ceiling.produce.b1", 0.85, "rate"],
  ["produce(1) with producer + seq vs the bare object (same POSTs)", "waystation.produce.b1.seq", "ceiling.produce.b1.seq", null, "rate"],
  ["read(100) vs the bare object", "waystation.read.b100", "ceiling.read.b100", 0.85, "rate"],
  ["/healthz vs a bare Worker", "waystation.hello", "ceiling.hello", 0.9, "rate"],
  ["produce(100) with seq vs JetStream pipelined publish", "waystation.produce.b100.seq", "nats.publish.pipelined", 2, "rate"],
  ["group fetch(100)+ack vs JetStream fetch(100)+ack", "waystation.group.fetch100", "nats.fetch100", 1.5, "rate"],
  ["group fetch(100) carrying acks vs JetStream fetch(100)+ack", "waystation.group.fetch100.carried", "nats.fetch100", 1.5, "rate"],
  ["group over the socket vs JetStream fetch(100)+ack", "waystation.group.socket", "nats.fetch100", 1.5, "rate"],
  ["produce→consume p50 (WebSocket) vs /healthz p50 (1 connection)", "waystation.e2e.websocket", "waystation.hello.c1", 2, "p50"],
  ["SDK enqueue (strict) vs a bare IndexedDB put", "waystation.outbox:enqueuePerSecond", "waystation.outbox:idbPutPerSecond", 0.8, "rate"],
  ["8 partitions vs 1: produce(100), each batch's keys on one partition (routing overhead)", "waystation.partitions.produce.grouped.p8", "waystation.partitions.produce.grouped.p1", 0.9, "rate"],
  ["8 partitions vs 1: produce(100), keys mixed (a batch split 8 ways), same workerd", "waystation.partitions.produce.p8", "waystation.partitions.produce.p1", null, "rate"],
  ["8 partitions vs 1: produce(1) keyed, same workerd (routing overhead)", "waystation.partitions.produce1.p8", "waystation.partitions.produce1.p1", 0.9, "rate"],
  ["8 partitions vs 1: group fetch(100)+ack, same workerd (fan-out overhead)", "waystation.partitions.fetch100.p8", "waystation.partitions.fetch100.p1", 0.9, "rate"],
];

/** Where the fsync check's answer for a row comes from. */
const SYNC_SOURCE = { waystation: "waystation", ceiling: "ceiling", nats: "nats" };

/** Per-round figure of a row id ("id" or "id:extraName"), one entry per round. */
function perRound(results, rowId, kind = "rate") {
  const [id, extra] = rowId.split(":");
  return (results[id] ?? []).map((r) => (kind === "p50" ? r.p50 : extra ? r.extras?.[extra] : r.perSecond));
}

/**
 * Server CPU µs per message of each round: of the runtime process (workerd running the Worker,
 * or nats-server) or, with `all`, of every process (plus wrangler dev's proxy workerd and node).
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

function syncNote(fsync, rowId) {
  const system = SYNC_SOURCE[rowId.split(".")[0]];
  const check = fsync?.[system];
  if (!/produce|publish/.test(rowId)) return "";
  if (!check) return "not checked";
  if (check.error) return `check failed: ${check.error}`;
  const verdict = check.synced === check.writes ? "yes" : check.synced === 0 ? "no" : "partly";
  return `${verdict} (${check.synced}/${check.writes})`;
}

export function summarize(results) {
  const rows = {};
  for (const [rowId] of ROWS) {
    const values = perRound(results, rowId);
    if (values.length === 0) continue;
    const [id, extra] = rowId.split(":");
    const latency = (key) => (extra ? spread([]) : spread((results[id] ?? []).map((r) => r[key])));
    rows[rowId] = {
      throughput: spread(values),
      cpuUsPerMessage: spread(cpuPerMessage(results, rowId)),
      allCpuUsPerMessage: spread(cpuPerMessage(results, rowId, true)),
      p50: latency("p50"),
      p99: latency("p99"),
    };
  }
  const ratios = RATIOS.map(([label, ours, theirs, goal, kind]) => {
    const a = perRound(results, ours, kind);
    const b = perRound(results, theirs, kind);
    const ratio = spread(a.map((v, i) => v / b[i]).filter((v) => Number.isFinite(v)));
    // The same comparison by server CPU per message (theirs / ours: above 1 means we use less).
    const cpuA = cpuPerMessage(results, ours);
    const cpuB = cpuPerMessage(results, theirs);
    const cpuRatio = kind === "rate" ? spread(cpuB.map((v, i) => v / cpuA[i]).filter((v) => Number.isFinite(v))) : spread([]);
    const met = goal === null || !Number.isFinite(ratio.median) ? null : kind === "p50" ? ratio.median <= goal : ratio.median >= goal;
    return { label, ours, theirs, goal, kind, ratio, cpuRatio, met };
  });
  return { rows, ratios };
}

export function renderReport({ results, fsync, memory, meta }) {
  const { rows, ratios } = summarize(results);
  const out = [];
  out.push(
    `Load: autocannon, ${meta.connections} connections for every HTTP figure · ${meta.rounds} interleaved round(s) of ${meta.seconds} s per figure · body ${meta.bodyBytes} B · wrangler dev local observability ${meta.observability ? "ON (X_LOCAL_OBSERVABILITY=true)" : "OFF (X_LOCAL_OBSERVABILITY=false; deployed Workers do not pay it)"} · ${meta.when}`,
  );
  if (meta.code) out.push(`Waystation code: commit ${meta.code.commit}${meta.code.dirtyFiles ? ` + ${meta.code.dirtyFiles} uncommitted files in worker/ and shared/` : ""}`);
  out.push("");
  out.push("| workload | system | msg/s, median (min–max) | p50 ms | p99 ms | runtime CPU µs/msg | all processes CPU µs/msg | acked write fsynced |");
  out.push("|---|---|---:|---:|---:|---:|---:|---|");
  for (const [rowId, workload, system] of ROWS) {
    const row = rows[rowId];
    if (!row) continue;
    const rate = Number.isFinite(row.throughput.median) ? formatSpread(row.throughput) : "–";
    out.push(`| ${workload} | ${system} | ${rate} | ${formatMs(row.p50.median)} | ${formatMs(row.p99.median)} | ${formatRate(row.cpuUsPerMessage.median)} | ${formatRate(row.allCpuUsPerMessage.median)} | ${syncNote(fsync, rowId)} |`);
  }
  out.push("");
  out.push("| ratio (Waystation / peer, within each round) | median (min–max) | goal | met | by runtime CPU/msg (peer / Waystation) |");
  out.push("|---|---:|---:|---|---:|");
  for (const r of ratios) {
    const goal = r.goal === null ? "–" : `${r.kind === "p50" ? "≤" : "≥"} ${r.goal}×`;
    if (!Number.isFinite(r.ratio.median)) {
      out.push(`| ${r.label} | not measured | ${goal} | – | – |`);
      continue;
    }
    const met = r.met === null ? "" : r.met ? "yes" : "**no**";
    out.push(`| ${r.label} | ${formatSpread(r.ratio, formatRatio)} | ${goal} | ${met} | ${formatSpread(r.cpuRatio, formatRatio)} |`);
  }
  out.push("");
  out.push("p50/p99 ms: autocannon's per-request latency under the load (median over rounds); latency rows: one message at a time.");
  out.push("");
  const shares = renderPartitionShares(results);
  if (shares) out.push(shares, "");
  out.push("| runtime | peak RSS (VmHWM) per process, MiB |");
  out.push("|---|---|");
  for (const [name, byProcess] of Object.entries(memory)) {
    const parts = Object.entries(byProcess).map(([proc, kib]) => `${proc} ${(kib / 1024).toFixed(0)}`);
    out.push(`| ${name} | ${parts.join(" · ")} |`);
  }
  return out.join("\n");
}

/**
 * How the partitioned figures spread over their partitions, round by round: each partition's
 * share of the messages stored (produce) or handed out (fetch), and max/min of those counts.
 */
export function renderPartitionShares(results) {
  const out = [];
  for (const [id, runs] of Object.entries(results)) {
    for (const [i, r] of runs.entries()) {
      if (!Array.isArray(r.partitionMessages) || r.partitionMessages.length < 2) continue;
      const counts = r.partitionMessages;
      const total = counts.reduce((a, b) => a + b, 0);
      const shares = counts.map((n, p) => `p${p} ${((n / total) * 100).toFixed(1)}%`).join(" · ");
      const skew = Math.min(...counts) > 0 ? `${(Math.max(...counts) / Math.min(...counts)).toFixed(3)}` : "∞";
      const perMessage = r.storedBytes > 0 ? (r.storedBytes / total).toFixed(0) : "–";
      out.push(`| ${id.replace(/^waystation\./, "")} | ${i + 1} | ${total.toLocaleString("en-US")} | ${shares} | ${skew} | ${perMessage} |`);
    }
  }
  if (out.length === 0) return "";
  const head = [
    "| partitioned figure | round | messages | share per partition (even: 1/N each) | max/min count | stored B/msg (stats.bytes) |",
    "|---|---:|---:|---|---:|---:|",
  ];
  return [...head, ...out].join("\n");
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
