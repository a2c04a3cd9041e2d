// Waystation consumer groups under load, from a station filled beforehand (untimed): fetch(100)
// then ack over HTTP, fetch(100) carrying the previous batch's acks, and WebSocket subscribers
// acking on the socket, each with the bench's connection count as consumers; then the
// produce→consume latency over the WebSocket (one message at a time).
import { okJson, runLoad } from "../lib/load.mjs";
import { requestJson } from "../lib/http.mjs";
import { makeBody } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { sleep } from "../lib/processes.mjs";
import { createGroup, createStation, waystationAdapter } from "./waystation-api.mjs";
import { fillStation } from "./http-workloads.mjs";

const GROUP = "bench";

function groupPath(station, action) {
  return `/v1/stations/${station}/groups/${GROUP}/${action}`;
}

/** A fresh station of `profile.fetchFill` messages and its group (not timed). */
async function filledGroup(worker, name, profile) {
  const station = await fillStation(waystationAdapter(worker), `${name}-${Date.now().toString(36)}`, profile.fetchFill, profile.connections);
  await createGroup(worker, station, GROUP);
  return station;
}

/** Consumer names leased one request at a time (autocannon's connections have no identity). */
function consumerPool() {
  const free = [];
  let created = 0;
  return { take: () => free.pop() ?? { name: `c${++created}`, unacked: [] }, give: (c) => free.push(c) };
}

function fetchedMessages(status, body) {
  const answer = okJson(status, body, "fetch");
  if (!Array.isArray(answer.messages)) throw new Error(`unexpected fetch answer: ${String(body).slice(0, 300)}`);
  return answer.messages;
}

/** fetch(100), then ack its offsets: two confirmed requests per batch. Stops when the station is drained. */
async function fetchThenAck(worker, profile, round, hooks) {
  const station = await filledGroup(worker, `bench-fetch-r${round}`, profile);
  await hooks?.filled?.();
  const consumers = consumerPool();
  return runLoad({
    url: worker.url,
    token: worker.token,
    connections: profile.connections,
    seconds: profile.seconds,
    requests: [
      {
        setup: (context) => {
          context.consumer = consumers.take();
          return { method: "POST", path: groupPath(station, "fetch"), body: JSON.stringify({ consumer: context.consumer.name, max: 100, waitMs: 0 }) };
        },
        onAnswer: (status, body, context) => {
          const messages = fetchedMessages(status, body);
          context.offsets = messages.map((m) => m.offset);
          if (messages.length > 0) return 0; // counted when acked
          consumers.give(context.consumer);
          return -1; // drained
        },
      },
      {
        setup: (context) => (context.offsets?.length ? { method: "POST", path: groupPath(station, "ack"), body: JSON.stringify({ offsets: context.offsets }) } : null),
        onAnswer: (status, body, context) => {
          const answer = okJson(status, body, "ack");
          if (answer.acked !== context.offsets.length) throw new Error(`acked ${answer.acked} of ${context.offsets.length}`);
          consumers.give(context.consumer);
          return context.offsets.length;
        },
      },
    ],
  });
}

/** fetch(100) carrying the previous batch's acks: one request and one storage sync per batch. */
async function fetchCarryingAcks(worker, profile, round, hooks) {
  const station = await filledGroup(worker, `bench-carried-r${round}`, profile);
  await hooks?.filled?.();
  const consumers = consumerPool();
  const result = await runLoad({
    url: worker.url,
    token: worker.token,
    connections: profile.connections,
    seconds: profile.seconds,
    requests: [
      {
        setup: (context) => {
          const consumer = consumers.take();
          context.consumer = consumer;
          context.acking = consumer.unacked;
          const body = { consumer: consumer.name, max: 100, waitMs: 0, ...(consumer.unacked.length ? { ack: consumer.unacked } : {}) };
          return { method: "POST", path: groupPath(station, "fetch"), body: JSON.stringify(body) };
        },
        onAnswer: (status, body, context) => {
          const messages = fetchedMessages(status, body);
          const acked = context.acking.length;
          context.consumer.unacked = messages.map((m) => m.offset);
          consumers.give(context.consumer);
          return messages.length === 0 ? -1 : acked;
        },
      },
    ],
  });
  // Each consumer's last batch is acked before the figure counts it (after the clock stopped:
  // at most connections × 100 messages, which the rate leaves out).
  return result;
}

/**
 * `profile.connections` WebSocket subscribers with credit 100 each, acking every frame on the
 * socket and granting the credit back; time until the filled station is drained (or the time
 * is up), counting acked messages.
 */
async function socketConsume(worker, profile, round, hooks) {
  const station = await filledGroup(worker, `bench-socket-r${round}`, profile);
  await hooks?.filled?.();
  const total = profile.fetchFill;
  let received = 0;
  let failure = null;
  let done = false;
  const sockets = [];
  const opened = [];
  for (let i = 0; i < profile.connections; i++) {
    const url = `${worker.url.replace(/^http/, "ws")}${groupPath(station, "subscribe")}?consumer=ws-${i}&credit=100`;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${worker.token}` } });
    opened.push(new Promise((resolve) => socket.addEventListener("open", resolve, { once: true })));
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "error") failure ??= new Error(`subscribe error frame: ${String(event.data).slice(0, 300)}`);
      if (frame.type !== "messages") return;
      received += frame.messages.length;
      socket.send(JSON.stringify({ type: "ack", offsets: frame.messages.map((m) => m.offset) }));
      socket.send(JSON.stringify({ type: "credit", n: frame.messages.length }));
    };
    // Events after the measurement are the sockets being closed by us, not failures.
    socket.onerror = () => {
      if (!done) failure ??= new Error("a WebSocket subscriber failed");
    };
    socket.onclose = (event) => {
      if (!done) failure ??= new Error(`a WebSocket subscriber was closed: ${event.code} ${event.reason}`);
    };
    sockets.push(socket);
  }
  // The clock starts once every subscriber is connected (or failed), as the messages flow from then.
  await Promise.race([Promise.all(opened), sleep(10_000)]);
  const t0 = performance.now();
  const deadline = t0 + profile.seconds * 1000;
  while (received < total && performance.now() < deadline && !failure) await sleep(2);
  const elapsedMs = performance.now() - t0;
  done = true;
  const error = failure;
  for (const socket of sockets) socket.close();
  if (error) throw error;
  if (received === 0) throw new Error("no message reached a WebSocket subscriber");
  return { ops: received, messages: received, elapsedMs, perSecond: (received / elapsedMs) * 1000, latenciesMs: [] };
}

export function groupMeasurements(worker, profile) {
  return [
    // `hooks.filled` runs once the station is filled, before the timed part (profile.mjs starts
    // the profiler there, so the fill is not in the profile).
    { id: "waystation.group.fetch100", workload: "group.fetch100", run: (round, hooks) => fetchThenAck(worker, profile, round, hooks) },
    { id: "waystation.group.fetch100.carried", workload: "group.fetch100.carried", run: (round, hooks) => fetchCarryingAcks(worker, profile, round, hooks) },
    { id: "waystation.group.socket", workload: "group.socket", run: (round, hooks) => socketConsume(worker, profile, round, hooks) },
    { id: "waystation.e2e.websocket", workload: "e2e", run: (round) => measureWebSocketLatency(worker, `bench-ws-r${round}`, profile) },
  ];
}

/** Produces one message at a time and waits until `received()` has it; the consumer times it. */
async function produceOneByOne(worker, station, profile, received) {
  const t0 = performance.now();
  let seq = 0;
  // The first message is a warm-up that also makes sure the consumer is in place before timing.
  while (seq < profile.latencySamples + 1 && performance.now() - t0 < profile.seconds * 4000) {
    seq += 1;
    const body = { producer: "e2e", messages: [{ seq, body: seq === 1 ? makeBody(seq) : makeBody(seq, epochMs()) }] };
    await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: body, token: worker.token });
    const waitUntil = Date.now() + 10_000;
    while (received() < seq && Date.now() < waitUntil) await sleep(0.2);
    if (received() < seq) throw new Error(`the consumer did not get seq ${seq} within 10 s`);
  }
  return performance.now() - t0;
}

/** Over `GET …/subscribe` (WebSocket): the server pushes, the client acks on the socket. */
async function measureWebSocketLatency(worker, station, profile) {
  await createStation(worker, station);
  await createGroup(worker, station, "ws");
  const latenciesMs = [];
  let received = 0;
  const url = `${worker.url.replace(/^http/, "ws")}/v1/stations/${station}/groups/ws/subscribe?consumer=ws-1&credit=100`;
  // Node's WebSocket (undici) can send Authorization, as a server-side consumer would.
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${worker.token}` } });
  let failure = null;
  const opened = new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("WebSocket subscribe failed to open"));
  });
  socket.onmessage = (event) => {
    const at = epochMs();
    const frame = JSON.parse(event.data);
    if (frame.type === "error") failure = new Error(`subscribe error frame: ${event.data.slice(0, 300)}`);
    if (frame.type !== "messages") return;
    for (const m of frame.messages) if (m.body.sentAtMs !== undefined) latenciesMs.push(at - m.body.sentAtMs);
    received += frame.messages.length;
    const offsets = frame.messages.map((m) => m.offset);
    socket.send(JSON.stringify({ type: "ack", offsets }));
    socket.send(JSON.stringify({ type: "credit", n: offsets.length }));
  };
  await opened;
  let elapsedMs;
  try {
    elapsedMs = await produceOneByOne(worker, station, profile, () => {
      if (failure) throw failure;
      return received;
    });
  } finally {
    socket.close();
  }
  return { ops: latenciesMs.length, messages: latenciesMs.length, elapsedMs, latenciesMs, perSecond: NaN };
}
