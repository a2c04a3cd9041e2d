// Partitioned stations under the bench's load: produce of 100 keyed messages per request (keys
// mixed, so a batch spans every partition; keys grouped by partition, as the SDK sends them; and
// 1 per request) into a station of 1 partition and one of 8, back to back in every round (their
// ratio is what partitioning costs, as every object runs in this one workerd), then each
// partition's share of what was stored; and group fetch(100) + ack over both. A build that cannot do a part is probed first and
// the part is left out with the reason (skipReasons), never measured wrong.
import { okJson, runLoad } from "../lib/load.mjs";
import { request, requestJson } from "../lib/http.mjs";
import { partitionFor } from "../lib/partition-of.mjs";
import { makeBody } from "../lib/payload.mjs";
import { createGroup } from "./waystation-api.mjs";

/** The partition counts compared; the first is the baseline of the ratio. */
export const PARTITION_COUNTS = [1, 8];
const GROUP = "bench";
/** Distinct keys `user-0` … : many more than partitions, so the hash, not the key set, decides the spread. */
const KEY_COUNT = 10_000;
const BATCH = 100;

/** Why a part of this suite was left out of the run, by workload (read by the report). */
export const skipReasons = {};

/**
 * Request bodies of `batch` keyed messages (~200 B bodies, no producer, no seq) covering every
 * key once, built once and sent in turn, so the client's cost per request is the same for every
 * partition count.
 */
function keyedBodiesOf(batch) {
  const bodies = [];
  for (let first = 0; first < KEY_COUNT; first += batch) {
    const messages = [];
    for (let k = first; k < first + batch; k++) messages.push({ key: `user-${k}`, body: makeBody(k) });
    bodies.push(JSON.stringify({ messages }));
  }
  return bodies;
}
/**
 * Bodies of BATCH keys that all hash to one partition of the larger count (so one object rules
 * the whole batch, as when the SDK sends a partition's stream), taken partition by partition in
 * turn. The 1-partition station gets the same bodies.
 */
function groupedBodiesOf(partitions) {
  const byPartition = Array.from({ length: partitions }, () => []);
  for (let k = 0; k < KEY_COUNT; k++) byPartition[partitionFor(`user-${k}`, null, partitions)].push(k);
  const chunks = byPartition.map((keys) => {
    const full = [];
    for (let i = 0; i + BATCH <= keys.length; i += BATCH) full.push(JSON.stringify({ messages: keys.slice(i, i + BATCH).map((k) => ({ key: `user-${k}`, body: makeBody(k) })) }));
    return full;
  });
  const bodies = [];
  for (let i = 0; chunks.some((c) => i < c.length); i++) for (const c of chunks) if (i < c.length) bodies.push(c[i]);
  return bodies;
}
const BODIES = { mixed: keyedBodiesOf(BATCH), grouped: groupedBodiesOf(Math.max(...PARTITION_COUNTS)), single: keyedBodiesOf(1) };
const keyedBodies = BODIES.mixed;

function stationName(what, partitions, round) {
  return `bench-part-${what}-p${partitions}-r${round}-${Date.now().toString(36)}`;
}

async function createPartitionedStation(worker, name, partitions) {
  const res = await request("PUT", `${worker.url}/v1/stations/${name}`, { body: JSON.stringify({ partitions }), token: worker.token });
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT station ${name} {partitions: ${partitions}}: ${res.status} ${res.text.slice(0, 300)}`);
}

/** Checks one produce answer of a keyed batch; returns how many of its messages each partition took. */
function producedByPartition(status, body, partitions, batch = BATCH) {
  const answer = okJson(status, body, "produce");
  const results = answer?.results;
  if (!Array.isArray(results) || results.length !== batch) throw new Error(`unexpected produce answer: ${String(body).slice(0, 300)}`);
  const counts = new Array(partitions).fill(0);
  for (const r of results) {
    if (r.unruled) throw new Error(`a message was not ruled (its partition was not reached): ${JSON.stringify(r).slice(0, 300)}`);
    if (!Number.isInteger(r.partition) || r.partition < 0 || r.partition >= partitions || !(r.offset > 0) || r.duplicate !== false) {
      throw new Error(`unexpected produce result on a ${partitions}-partition station: ${JSON.stringify(r).slice(0, 300)}`);
    }
    counts[r.partition] += 1;
  }
  return counts;
}

/**
 * Messages stored per partition, from `GET /v1/stations/{station}` (`partitions[].stats.messages`),
 * and the bytes the station counts for them (all partitions).
 */
async function storedByPartition(worker, station, partitions) {
  const info = await requestJson("GET", `${worker.url}/v1/stations/${station}`, { token: worker.token });
  const listed = info.partitions ?? (partitions === 1 ? [{ partition: 0, stats: info.stats }] : null);
  if (!Array.isArray(listed) || listed.length !== partitions) {
    throw new Error(`station ${station} should list ${partitions} partitions: ${JSON.stringify(info.partitions ?? null).slice(0, 300)}`);
  }
  const stored = new Array(partitions).fill(0);
  for (const p of listed) stored[p.partition] = p.stats.messages;
  return { stored, bytes: listed.reduce((sum, p) => sum + (p.stats.bytes ?? 0), 0) };
}

/**
 * Whether this build routes keyed produce across partitions: 100 keyed messages into a fresh
 * 2-partition station must land in both. Null when it does; otherwise why not.
 */
async function produceRoutingMissing(worker) {
  const station = stationName("probe", 2, 0);
  const res = await request("PUT", `${worker.url}/v1/stations/${station}`, { body: JSON.stringify({ partitions: 2 }), token: worker.token });
  if (res.status !== 201 && res.status !== 200) return `this build refuses a partitioned station (PUT {partitions: 2}: ${res.status})`;
  const produced = await request("POST", `${worker.url}/v1/stations/${station}/messages`, { body: keyedBodies[0], token: worker.token });
  const missing = produced.status === 200 ? JSON.parse(produced.text).results?.find((r) => r.unruled?.code === "station_not_found") : undefined;
  if (missing) return `this build routes produce but its PUT does not create the partitions' objects yet (partition ${missing.partition} answered station_not_found)`;
  const counts = producedByPartition(produced.status, produced.text, 2);
  return counts.every((n) => n > 0) ? null : "this build does not route produce by key yet (100 keyed messages into a 2-partition station all went to one partition)";
}

/**
 * Whether a group fetch on this build covers every partition: with 100 keyed messages spread over
 * the 2 partitions of a fresh station, fetch(100) must hand out messages of both. Null when it
 * does; otherwise why not.
 */
async function groupFanOutMissing(worker) {
  const station = stationName("probe-group", 2, 0);
  await createPartitionedStation(worker, station, 2);
  const produced = await request("POST", `${worker.url}/v1/stations/${station}/messages`, { body: keyedBodies[0], token: worker.token });
  producedByPartition(produced.status, produced.text, 2);
  await createGroup(worker, station, GROUP);
  const fetched = await request("POST", `${worker.url}${groupPath(station, "fetch")}`, { body: JSON.stringify({ consumer: "probe", max: BATCH, waitMs: 0 }), token: worker.token });
  if (fetched.status !== 200) return `a group fetch on a 2-partition station answered ${fetched.status}`;
  const seen = new Set(JSON.parse(fetched.text).messages.map((m) => m.partition));
  return seen.size === 2 ? null : "this build's group fetch does not cover every partition yet (fetch(100) on a 2-partition station handed out one partition's messages only)";
}

/** produce keyed into a fresh station of `partitions` (bodies: a BODIES kind); the result carries each partition's share. */
async function produceKeyed(worker, profile, partitions, kind, round) {
  const station = stationName(`produce-${kind}`, partitions, round);
  const bodies = BODIES[kind];
  const batch = kind === "single" ? 1 : BATCH;
  await createPartitionedStation(worker, station, partitions);
  const path = `/v1/stations/${station}/messages`;
  const answered = new Array(partitions).fill(0);
  let next = 0;
  const result = await runLoad({
    url: worker.url,
    token: worker.token,
    connections: profile.connections,
    seconds: profile.seconds,
    requests: [
      {
        setup: () => ({ method: "POST", path, body: bodies[next++ % bodies.length] }),
        onAnswer: (status, body) => {
          producedByPartition(status, body, partitions, batch).forEach((n, p) => (answered[p] += n));
          return batch;
        },
      },
    ],
  });
  const { stored, bytes } = await storedByPartition(worker, station, partitions);
  // Requests still in flight when the clock stopped may have been stored without being counted.
  stored.forEach((n, p) => {
    if (n < answered[p]) throw new Error(`partition ${p} of ${station} holds ${n} messages, fewer than the ${answered[p]} acknowledged`);
  });
  return { ...result, partitions, partitionMessages: stored, storedBytes: bytes };
}

function groupPath(station, action) {
  return `/v1/stations/${station}/groups/${GROUP}/${action}`;
}

/** A fresh station of `partitions` with `count` keyed messages and a group reading it from the start (not timed). */
async function filledPartitionedGroup(worker, partitions, count, connections, round) {
  const station = stationName("fetch", partitions, round);
  await createPartitionedStation(worker, station, partitions);
  let next = 0;
  await runLoad({
    url: worker.url,
    token: worker.token,
    connections: Math.min(4, connections),
    seconds: 600,
    maxRequests: Math.ceil(count / BATCH),
    requests: [
      {
        setup: () => ({ method: "POST", path: `/v1/stations/${station}/messages`, body: keyedBodies[next++ % keyedBodies.length] }),
        onAnswer: (status, body) => {
          producedByPartition(status, body, partitions);
          return BATCH;
        },
      },
    ],
  });
  await createGroup(worker, station, GROUP);
  return station;
}

/**
 * fetch(100), then ack what it handed out by `{partition, offset, epoch}` (the same request
 * shape for 1 and 8 partitions); stops when the station is drained. Every partition must have
 * handed out messages (once any were), or the fetch did not cover the station.
 */
async function fetchThenAckPartitioned(worker, profile, partitions, round, hooks) {
  const station = await filledPartitionedGroup(worker, partitions, profile.fetchFill, profile.connections, round);
  await hooks?.filled?.();
  const consumers = [];
  let created = 0;
  const handedOut = new Array(partitions).fill(0);
  const result = await runLoad({
    url: worker.url,
    token: worker.token,
    connections: profile.connections,
    seconds: profile.seconds,
    requests: [
      {
        setup: (context) => {
          context.consumer = consumers.pop() ?? `c${++created}`;
          return { method: "POST", path: groupPath(station, "fetch"), body: JSON.stringify({ consumer: context.consumer, max: BATCH, waitMs: 0 }) };
        },
        onAnswer: (status, body, context) => {
          const messages = okJson(status, body, "fetch").messages;
          if (!Array.isArray(messages)) throw new Error(`unexpected fetch answer: ${String(body).slice(0, 300)}`);
          context.refs = messages.map((m) => ({ partition: m.partition, offset: m.offset, ...(m.epoch === undefined ? {} : { epoch: m.epoch }) }));
          for (const m of messages) handedOut[m.partition] += 1;
          if (messages.length > 0) return 0; // counted when acked
          consumers.push(context.consumer);
          return -1; // drained
        },
      },
      {
        setup: (context) => (context.refs?.length ? { method: "POST", path: groupPath(station, "ack"), body: JSON.stringify({ messages: context.refs }) } : null),
        onAnswer: (status, body, context) => {
          const answer = okJson(status, body, "ack");
          if (answer.acked !== context.refs.length) throw new Error(`acked ${answer.acked} of ${context.refs.length}`);
          consumers.push(context.consumer);
          return context.refs.length;
        },
      },
    ],
  });
  // A window too short for one fetch and its ack (the CI smoke's) still proves the path once,
  // untimed: a batch fetched and acked whole.
  if (result.messages === 0) (await fetchAndAckOnce(worker, station)).forEach((n, p) => (handedOut[p] += n));
  // Each fetch asks every partition for its share, so once anything was handed out, every
  // partition should have given some.
  const silent = handedOut.flatMap((n, p) => (n === 0 ? [p] : []));
  if (silent.length < partitions && silent.length > 0) throw new Error(`group fetch on ${station} handed out nothing of partition(s) ${silent.join(", ")}`);
  return { ...result, partitions, partitionMessages: handedOut };
}

/** One fetch(100) by a consumer of its own, acked whole; returns how many each partition handed out. */
async function fetchAndAckOnce(worker, station) {
  const fetched = await requestJson("POST", `${worker.url}${groupPath(station, "fetch")}`, { json: { consumer: "check", max: BATCH, waitMs: 0 }, token: worker.token });
  if (!(fetched.messages?.length > 0)) throw new Error(`fetch on ${station} handed out nothing: ${JSON.stringify(fetched).slice(0, 300)}`);
  const refs = fetched.messages.map((m) => ({ partition: m.partition, offset: m.offset, ...(m.epoch === undefined ? {} : { epoch: m.epoch }) }));
  const acked = await requestJson("POST", `${worker.url}${groupPath(station, "ack")}`, { json: { messages: refs }, token: worker.token });
  if (acked.acked !== refs.length) throw new Error(`acked ${acked.acked} of ${refs.length} on ${station}`);
  const counts = [];
  for (const m of fetched.messages) counts[m.partition] = (counts[m.partition] ?? 0) + 1;
  return Array.from(counts, (n) => n ?? 0);
}

/**
 * The suite's measurements, once this build has shown it can do each part. `variant` orders the
 * partition counts within a workload; the runner reverses that order every other round.
 */
export async function partitionMeasurements(worker, profile) {
  const measurements = [];
  const produceMissing = await produceRoutingMissing(worker);
  if (produceMissing) {
    skipReasons["partitions.produce"] = produceMissing;
    skipReasons["partitions.produce.grouped"] = "needs produce routing";
    skipReasons["partitions.produce1"] = "needs produce routing";
    skipReasons["partitions.fetch100"] = "needs produce routing";
    return measurements;
  }
  for (const [workload, kind] of [["partitions.produce", "mixed"], ["partitions.produce.grouped", "grouped"], ["partitions.produce1", "single"]]) {
    PARTITION_COUNTS.forEach((partitions, variant) => {
      measurements.push({ id: `waystation.${workload}.p${partitions}`, workload, variant, run: (round) => produceKeyed(worker, profile, partitions, kind, round) });
    });
  }
  const fanOutMissing = await groupFanOutMissing(worker);
  if (fanOutMissing) {
    skipReasons["partitions.fetch100"] = fanOutMissing;
    return measurements;
  }
  PARTITION_COUNTS.forEach((partitions, variant) => {
    measurements.push({
      id: `waystation.partitions.fetch100.p${partitions}`,
      workload: "partitions.fetch100",
      variant,
      run: (round, hooks) => fetchThenAckPartitioned(worker, profile, partitions, round, hooks),
    });
  });
  return measurements;
}
