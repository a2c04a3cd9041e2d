// Waystation consumer groups under load: fetch(100)+ack throughput over a full station, and
// produce→consume latency over long-poll and over the WebSocket subscribe route.
// Measured only when the group routes exist.
import { runClosedLoop } from "../lib/closed-loop.mjs";
import { request, requestJson } from "../lib/http.mjs";
import { makeBody, produceRequestJson } from "../lib/payload.mjs";
import { epochMs } from "../lib/strace.mjs";
import { sleep } from "../lib/processes.mjs";
import { createStation } from "./waystation-api.mjs";

/** True when POST …/groups/{g}/fetch is routed (an unknown route answers code `not_found`). */
export async function groupsAvailable(worker) {
  const res = await request("POST", `${worker.url}/v1/stations/no-such-station/groups/g/fetch`, { body: "{}", token: worker.token });
  return !(res.status === 404 && JSON.parse(res.text)?.error?.code === "not_found");
}

function groupUrl(worker, station, group, action) {
  return `${worker.url}/v1/stations/${station}/groups/${group}/${action}`;
}

/** Fills a station with `count` messages in batches of 100 (not measured). */
async function fill(worker, station, count) {
  for (let seq = 1; seq <= count; seq += 100) {
    const n = Math.min(100, count - seq + 1);
    await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: JSON.parse(produceRequestJson("filler", seq, n)), token: worker.token });
  }
}

async function fetchMessages(worker, station, group, body) {
  const answer = await requestJson("POST", groupUrl(worker, station, group, "fetch"), { json: body, token: worker.token, timeoutMs: 60_000 });
  if (!Array.isArray(answer?.messages)) throw new Error(`unexpected fetch answer: ${JSON.stringify(answer).slice(0, 300)}`);
  return answer.messages;
}

async function ack(worker, station, group, offsets) {
  const answer = await requestJson("POST", groupUrl(worker, station, group, "ack"), { json: { offsets }, token: worker.token });
  if (answer?.acked === undefined) throw new Error(`unexpected ack answer: ${JSON.stringify(answer).slice(0, 300)}`);
}

export function groupMeasurements(worker, profile) {
  return [
    {
      id: "waystation.group.fetch100",
      run: async (round) => {
        const station = `bench-fetch-r${round}`;
        await createStation(worker, station);
        await fill(worker, station, profile.fetchMessages);
        let consumed = 0;
        const result = await runClosedLoop({
          concurrency: 1,
          maxOps: Math.ceil(profile.fetchMessages / 100),
          maxMs: profile.maxMs * 3,
          op: async () => {
            const messages = await fetchMessages(worker, station, "bench", { consumer: "bench-1", max: 100, waitMs: 0 });
            if (messages.length === 0) throw new Error(`fetch returned nothing after ${consumed} of ${profile.fetchMessages}`);
            await ack(worker, station, "bench", messages.map((m) => m.offset));
            consumed += messages.length;
            return messages.length;
          },
        });
        return result;
      },
    },
    {
      // The same work with each fetch carrying the previous batch's acks (`fetch {ack: [...]}`):
      // one request and one storage sync per batch, as JetStream's fire-and-forget acks cost it
      // no round trip either. The last batch is acked on its own before the clock stops.
      id: "waystation.group.fetch100.carried",
      run: async (round) => {
        const station = `bench-fetch-carried-r${round}`;
        await createStation(worker, station);
        await fill(worker, station, profile.fetchMessages);
        let consumed = 0;
        let unacked = [];
        const result = await runClosedLoop({
          concurrency: 1,
          maxOps: Math.ceil(profile.fetchMessages / 100),
          maxMs: profile.maxMs * 3,
          op: async () => {
            const body = { consumer: "bench-1", max: 100, waitMs: 0, ...(unacked.length > 0 ? { ack: unacked } : {}) };
            const messages = await fetchMessages(worker, station, "bench", body);
            if (messages.length === 0) throw new Error(`fetch returned nothing after ${consumed} of ${profile.fetchMessages}`);
            unacked = messages.map((m) => m.offset);
            consumed += messages.length;
            return messages.length;
          },
        });
        if (unacked.length > 0) await ack(worker, station, "bench", unacked);
        return result;
      },
    },
    {
      id: "waystation.e2e.longpoll",
      run: (round) => measureLongPollLatency(worker, `bench-lp-r${round}`, profile),
    },
    {
      id: "waystation.e2e.websocket",
      run: (round) => measureWebSocketLatency(worker, `bench-ws-r${round}`, profile),
    },
  ];
}

/** Produces one message at a time and waits until `received()` has it; the consumer times it. */
async function produceOneByOne(worker, station, profile, received) {
  const t0 = performance.now();
  let seq = 0;
  // The first message is a warm-up that also makes sure the consumer is in place before timing.
  while (seq < profile.latencySamples + 1 && performance.now() - t0 < profile.maxMs * 4) {
    seq += 1;
    const body = { producer: "e2e", messages: [{ seq, body: seq === 1 ? makeBody(seq) : makeBody(seq, epochMs()) }] };
    await requestJson("POST", `${worker.url}/v1/stations/${station}/messages`, { json: body, token: worker.token });
    const waitUntil = Date.now() + 10_000;
    while (received() < seq && Date.now() < waitUntil) await sleep(0.5);
    if (received() < seq) throw new Error(`the consumer did not get seq ${seq} within 10 s`);
  }
  return performance.now() - t0;
}

/**
 * One message at a time: produce it, and time until a long-polling consumer has it. The next
 * message goes out only after the last one arrived, so the figure is latency, not queueing.
 */
async function measureLongPollLatency(worker, station, profile) {
  await createStation(worker, station);
  const latenciesMs = [];
  let received = 0;
  let stop = false;
  let failure = null;
  const consumer = (async () => {
    const deadline = Date.now() + profile.maxMs * 4 + 30_000;
    while (!stop && Date.now() < deadline) {
      const messages = await fetchMessages(worker, station, "lp", { consumer: "lp-1", max: 10, waitMs: 1_000 });
      const at = epochMs();
      for (const m of messages) if (m.body.sentAtMs !== undefined) latenciesMs.push(at - m.body.sentAtMs);
      received += messages.length;
      if (messages.length > 0) await ack(worker, station, "lp", messages.map((m) => m.offset));
    }
  })().catch((error) => {
    failure = error;
  });
  let elapsedMs;
  try {
    elapsedMs = await produceOneByOne(worker, station, profile, () => {
      if (failure) throw failure;
      return received;
    });
  } finally {
    stop = true;
    await consumer;
  }
  return { ops: latenciesMs.length, messages: latenciesMs.length, elapsedMs, latenciesMs, perSecond: NaN };
}

/** The same over `GET …/subscribe` (WebSocket): the server pushes, the client acks on the socket. */
async function measureWebSocketLatency(worker, station, profile) {
  await createStation(worker, station);
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
