// NATS JetStream, the engine Memphis was built on: Debian's nats-server with -js on 127.0.0.1
// and a temporary store dir, driven by the `nats` npm client. Publish with ack pipelined (1,000
// in flight), pull fetch(100)+ack, and publish→consume latency.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AckPolicy, connect, StorageType } from "nats";
import { makeBody } from "../lib/payload.mjs";
import { freePort, groupCpuMs, groupMemory, signalGroup, sleep } from "../lib/processes.mjs";
import { epochMs, SYNC_SYSCALLS } from "../lib/strace.mjs";

const PIPELINE_DEPTH = 1_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function encode(seq, sentAtMs) {
  return encoder.encode(JSON.stringify(makeBody(seq, sentAtMs)));
}

/** Why the JetStream peer cannot run here (no `nats-server` on PATH), or null when it can. */
export function natsUnavailableReason() {
  try {
    execFileSync("nats-server", ["--version"], { stdio: "ignore" });
    return null;
  } catch {
    return "nats-server is not on PATH (it is not an npm package; install it to compare with JetStream)";
  }
}

export async function startNats({ straceOut } = {}) {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), "waystation-bench-nats-"));
  const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir];
  const [command, argv] = straceOut
    ? ["strace", ["-f", "-ttt", "-e", `trace=${SYNC_SYSCALLS.join(",")}`, "-o", straceOut, "nats-server", ...args]]
    : ["nats-server", args];
  const child = spawn(command, argv, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (c) => (log = (log + c).slice(-20_000)));
  child.stderr.on("data", (c) => (log = (log + c).slice(-20_000)));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  let nc;
  const deadline = Date.now() + 30_000;
  while (!nc) {
    if (child.exitCode !== null) throw new Error(`nats-server exited (${child.exitCode}):\n${log}`);
    try {
      nc = await connect({ servers: `127.0.0.1:${port}`, timeout: 1_000 });
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`nats-server did not accept connections in 30 s: ${error}\n${log}`);
      await sleep(100);
    }
  }
  return {
    name: "nats",
    nc,
    pid: child.pid,
    js: nc.jetstream(),
    jsm: await nc.jetstreamManager(),
    memory: () => groupMemory(child.pid),
    cpuMs: () => groupCpuMs(child.pid),
    output: () => log,
    async stop() {
      await nc.close();
      signalGroup(child, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}

/** A fresh file-backed stream with one subject. */
async function freshStream(nats, name) {
  await nats.jsm.streams.add({ name, subjects: [`${name}.msgs`], storage: StorageType.File });
  return `${name}.msgs`;
}

/** Publishes with up to `depth` acks outstanding, until `maxMessages` or `maxMs`. */
async function publishPipelined(nats, subject, { depth, maxMessages, maxMs }) {
  const latenciesMs = [];
  let inflight = 0;
  let wake = null;
  let failure = null;
  const t0 = performance.now();
  let sent = 0;
  const settle = () => {
    inflight -= 1;
    if (wake) {
      const w = wake;
      wake = null;
      w();
    }
  };
  while (sent < maxMessages && performance.now() - t0 < maxMs && !failure) {
    if (inflight >= depth) await new Promise((resolve) => (wake = resolve));
    inflight += 1;
    sent += 1;
    const begin = performance.now();
    nats.js.publish(subject, encode(sent)).then(
      () => {
        latenciesMs.push(performance.now() - begin);
        settle();
      },
      (error) => {
        failure = error;
        settle();
      },
    );
  }
  while (inflight > 0) await new Promise((resolve) => (wake = resolve));
  if (failure) throw failure;
  const elapsedMs = performance.now() - t0;
  return { ops: sent, messages: sent, elapsedMs, latenciesMs, perSecond: (sent / elapsedMs) * 1000 };
}

export function natsMeasurements(nats, profile) {
  const maxMs = profile.seconds * 1000;
  return [
    {
      id: "nats.publish.pipelined",
      workload: "produce.b100.seq",
      run: async (round) => {
        const subject = await freshStream(nats, `PIPE_R${round}_${Date.now()}`);
        return publishPipelined(nats, subject, { depth: PIPELINE_DEPTH, maxMessages: 10_000_000, maxMs });
      },
    },
    {
      // `profile.connections` pull loops on one durable consumer, as Waystation's group fetch
      // runs that many consumers: fetch(100), ack each message (fire and forget).
      id: "nats.fetch100",
      workload: "group.fetch100",
      run: async (round) => {
        const stream = `FETCH_R${round}_${Date.now()}`;
        const subject = await freshStream(nats, stream);
        await publishPipelined(nats, subject, { depth: PIPELINE_DEPTH, maxMessages: profile.fetchFill, maxMs: 120_000 });
        await nats.jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit });
        const latenciesMs = [];
        let consumed = 0;
        let drained = false;
        const t0 = performance.now();
        // When the last message was acked: a fetch on a drained stream waits out its `expires`,
        // which is not consuming time.
        let lastAt = t0;
        const loop = async () => {
          const consumer = await nats.js.consumers.get(stream, "bench");
          while (!drained && consumed < profile.fetchFill && performance.now() - t0 < maxMs) {
            const begin = performance.now();
            const batch = await consumer.fetch({ max_messages: 100, expires: 1_000 });
            let got = 0;
            for await (const m of batch) {
              m.ack();
              got += 1;
            }
            if (got === 0) {
              drained = true;
              continue;
            }
            consumed += got;
            lastAt = performance.now();
            latenciesMs.push(lastAt - begin);
          }
        };
        await Promise.all(Array.from({ length: profile.connections }, loop));
        await nats.nc.flush(); // the acks are out
        const elapsedMs = lastAt - t0;
        if (consumed === 0) throw new Error("JetStream fetch returned nothing");
        return { ops: latenciesMs.length, messages: consumed, elapsedMs, latenciesMs, perSecond: (consumed / elapsedMs) * 1000 };
      },
    },
    {
      id: "nats.e2e",
      workload: "e2e",
      run: async (round) => {
        const stream = `E2E_R${round}_${Date.now()}`;
        const subject = await freshStream(nats, stream);
        await nats.jsm.consumers.add(stream, { durable_name: "bench", ack_policy: AckPolicy.Explicit });
        const consumer = await nats.js.consumers.get(stream, "bench");
        const messages = await consumer.consume({ max_messages: 100 });
        const latenciesMs = [];
        const loop = (async () => {
          for await (const m of messages) {
            latenciesMs.push(epochMs() - JSON.parse(decoder.decode(m.data)).sentAtMs);
            m.ack();
          }
        })();
        const t0 = performance.now();
        let sent = 0;
        while (sent < profile.latencySamples && performance.now() - t0 < maxMs * 4) {
          sent += 1;
          await nats.js.publish(subject, encode(sent, epochMs()));
          const waitUntil = Date.now() + 10_000;
          while (latenciesMs.length < sent && Date.now() < waitUntil) await sleep(0.2);
          if (latenciesMs.length < sent) throw new Error(`JetStream consumer did not get ${sent} within 10 s`);
        }
        messages.stop();
        await loop;
        return { ops: sent, messages: sent, elapsedMs: performance.now() - t0, latenciesMs, perSecond: NaN };
      },
    },
  ];
}

export async function natsSyncProbe(nats, count, tag) {
  const subject = await freshStream(nats, `FSYNC_${tag.toUpperCase()}`);
  const writes = [];
  for (let seq = 1; seq <= count; seq++) {
    const sentMs = epochMs();
    await nats.js.publish(subject, encode(seq));
    writes.push({ sentMs, ackedMs: epochMs() });
  }
  return writes;
}
