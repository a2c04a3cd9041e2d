// A seeded simulation of the SDK against a model station that rules on each (producer, seq) once
// (fake-station.ts: stored, refused or in its DLS, the same ruling for every resend, seq_gap,
// seq_conflict). Origins — each its own outbox, with or without Web Locks, several tabs — enqueue
// to two stations while answers are lost after the commit, proxies answer pages, the station's
// maxMessageBytes, schema and the token's grant change between sends, the wall clock jumps, tabs
// reload, and a profile backup is restored beside the original (a second writer under the same
// producers). Afterwards: every acknowledged action is in the log exactly once (or, refused by
// the station, a local dead letter), in enqueue order per stream; no local dead letter is an
// action the log holds; every outbox drains once the faults stop.
// Replay one seed with SIM_SEED=<seed>; SIM_SEEDS=<n> runs n seeds (default 160).
import { openDB } from "idb";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../../../client/index";
import { OUTBOX_VERSION, type OutboxSchema, upgradeOutbox } from "../../../client/outbox/db";
import { REFUSAL_CODES } from "../../../shared/producers";
import { seededRandom } from "../../seeded-random";
import { error, FakeStation, foreign, json } from "./fake-station";
import { asLockManager, FakeLockManager, makeClient } from "./helpers";

const STATIONS = ["sim-a", "sim-b"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Origin {
  dbName: string;
  locks: LockManager | null;
  online: boolean;
  tabs: Client[];
  /** The last requests and what became of them, printed when the run fails. */
  trace: string[];
}

interface World {
  random: () => number;
  stations: Map<string, FakeStation>;
  /** The token reaches the station (else the edge answers 403). */
  granted: Map<string, boolean>;
  seen: { lostAfterCommit: number; notRulings: number; refused: number; conflicts: number };
}

/** The network between an origin and the worker: faults before the station, and answers lost after it. */
function fetchFor(world: World, origin: Origin): typeof fetch {
  const { random } = world;
  return async (input, init) => {
    const url = new URL(String(input));
    const name = decodeURIComponent(url.pathname.split("/")[3]!);
    if ((init?.method ?? "GET") === "GET") return json(200, { station: name, schema: null });
    const request = JSON.parse(String(init!.body)) as { producer: string; messages: { seq: number; body: unknown }[] };
    const note = (what: string) => {
      origin.trace.push(`${name} ${request.producer.slice(4, 10)} [${request.messages.map((m) => m.seq).join(",")}] → ${what}`);
      if (origin.trace.length > 12) origin.trace.shift();
    };
    try {
      const response = await answer(name, request);
      note(`${response.status}${response.status === 200 ? "" : ` ${(await response.clone().text()).slice(0, 80)}`}`);
      return response;
    } catch (error) {
      note((error as Error).message);
      throw error;
    }
  };

  async function answer(name: string, request: { producer: string; messages: { seq: number; body: unknown }[] }): Promise<Response> {
    await sleep(random() * 2);
    if (!origin.online || random() < 0.04) throw new TypeError("Failed to fetch (simulated: request lost)");
    const roll = random();
    const notRuling = (response: Response) => (world.seen.notRulings++, response);
    if (roll < 0.03) return notRuling(foreign([400, 404, 413, 502][Math.floor(random() * 4)]!));
    if (roll < 0.04) return notRuling(foreign(200, JSON.stringify({ results: [] }), "application/json"));
    if (!world.granted.get(name)) return notRuling(json(403, error("forbidden", `This token may not produce on ${name}`)));
    if (roll < 0.06) return notRuling(json(429, error("rate_limited", "slow down"), { "retry-after": "0.002" }));
    if (roll < 0.08) return notRuling(json(503, error("unavailable", "moved")));
    const station = world.stations.get(name)!;
    const [status, body] = station.produce(request);
    const results = (body as { results?: { refused?: unknown }[] }).results ?? [];
    world.seen.refused += results.filter((r) => r.refused).length;
    if ((body as { error?: { code: string } }).error?.code === "seq_conflict") world.seen.conflicts++;
    await sleep(random() * 2);
    if (random() < 0.1) {
      world.seen.lostAfterCommit++;
      throw new TypeError("Failed to fetch (simulated: answer lost after commit)");
    }
    return json(status, body);
  }
}

/** A profile backup restored: a copy of the outbox as it is now, under another name. */
async function copyOutbox(from: string, to: string): Promise<void> {
  const source = await openDB<OutboxSchema>(from, OUTBOX_VERSION, { upgrade: (db, old, _new, tx) => upgradeOutbox(db, old, tx) });
  const tx = source.transaction(["streams", "outbox", "dead"], "readonly");
  const [streams, outbox, dead] = await Promise.all([tx.objectStore("streams").getAll(), tx.objectStore("outbox").getAll(), tx.objectStore("dead").getAll()]);
  source.close();
  const target = await openDB<OutboxSchema>(to, OUTBOX_VERSION, { upgrade: (db, old, _new, tx) => upgradeOutbox(db, old, tx) });
  const write = target.transaction(["streams", "outbox", "dead"], "readwrite");
  await Promise.all([...streams.map((r) => write.objectStore("streams").put(r)), ...outbox.map((e) => write.objectStore("outbox").put(e)), ...dead.map((d) => write.objectStore("dead").put(d)), write.done]);
  target.close();
}

async function simulate(seed: number): Promise<World["seen"]> {
  const random = seededRandom(seed);
  const pick = <T,>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const world: World = {
    random,
    stations: new Map(STATIONS.map((name) => [name, new FakeStation()])),
    granted: new Map(STATIONS.map((name) => [name, true])),
    seen: { lostAfterCommit: 0, notRulings: 0, refused: 0, conflicts: 0 },
  };
  const origins: Origin[] = Array.from({ length: 2 }, (_, i) => ({
    dbName: `sim-${seed}-${i}`,
    // Some origins have no Web Locks: every tab syncs.
    locks: random() < 0.5 ? asLockManager(new FakeLockManager()) : null,
    online: true,
    tabs: [],
    trace: [],
  }));
  const open = (origin: Origin) => {
    const tab = makeClient({
      dbName: origin.dbName,
      locks: origin.locks,
      fetch: fetchFor(world, origin),
      maxBatchMessages: 1 + Math.floor(random() * 6),
      syncIntervalMs: 250,
      backoffBaseMs: 1,
      backoffMaxMs: 6,
    });
    origin.tabs.push(tab);
    return tab;
  };
  for (const origin of origins) for (let t = 0; t < 1 + Math.floor(random() * 2); t++) open(origin);

  /** uid → where enqueue() said it went; only resolved enqueues are promised to arrive. */
  const acknowledged = new Map<string, { db: string; station: string; seq: number }>();
  const enqueues: Promise<unknown>[] = [];
  let next = 0;
  let restored = false;
  for (let step = 0; step < 40; step++) {
    const origin = pick(origins);
    const roll = random();
    if (roll < 0.55 && origin.tabs.length > 0) {
      const uid = `u${next++}`;
      const station = pick(STATIONS);
      const kind = random();
      // Some bodies outgrow a lowered maxMessageBytes, some fail the schema when it is on.
      const body = kind < 0.1 ? { uid, pad: "x".repeat(80) } : kind < 0.2 ? { uid, bad: true } : { uid };
      const db = origin.dbName;
      enqueues.push(pick(origin.tabs).station(station).enqueue(body).then(({ seq }) => acknowledged.set(uid, { db, station, seq }), () => undefined));
    } else if (roll < 0.63 && origin.tabs.length > 0) {
      // Reload: the tab goes away (whatever it was doing) and comes back.
      void origin.tabs.splice(Math.floor(random() * origin.tabs.length), 1)[0]!.close();
      open(origin);
    } else if (roll < 0.68) {
      origin.online = !origin.online;
    } else if (roll < 0.73) {
      const station = world.stations.get(pick(STATIONS))!;
      station.config.maxMessageBytes = station.config.maxMessageBytes > 1000 ? 60 : 1024 * 1024;
    } else if (roll < 0.77) {
      const station = world.stations.get(pick(STATIONS))!;
      station.config.schema = station.config.schema ? undefined : (b) => ((b as { bad?: boolean }).bad ? "bad is not allowed" : null);
    } else if (roll < 0.81) {
      const name = pick(STATIONS);
      world.granted.set(name, !world.granted.get(name));
    } else if (roll < 0.84) {
      clock.offsetMs = (random() < 0.5 ? -1 : 1) * 60 * 60 * 1000 * random();
    } else if (roll < 0.86 && !restored && step > 10) {
      // A backup of this profile restored beside it: same producers, same seqs, another writer.
      restored = true;
      const copy: Origin = { dbName: `${origin.dbName}-restored`, locks: null, online: true, tabs: [], trace: [] };
      await Promise.all(enqueues);
      await copyOutbox(origin.dbName, copy.dbName);
      origins.push(copy);
      open(copy);
    } else {
      await sleep(random() * 3);
    }
  }

  await Promise.all(enqueues);
  // The faults stop: the network is back, the token reaches every station, sizes and schemas stay.
  for (const origin of origins) origin.online = true;
  for (const name of STATIONS) world.granted.set(name, true);
  const tabs = origins.flatMap((o) => o.tabs);
  const deadline = performance.now() + 20_000;
  for (;;) {
    await Promise.all(tabs.map((t) => t.flush()));
    const counts = await Promise.all(tabs.map(async (t) => (await t.pending()).length));
    if (counts.every((n) => n === 0)) break;
    if (performance.now() > deadline) throw new Error(`outboxes did not drain: ${counts.join(", ")} pending; ${JSON.stringify(tabs.map((t) => t.status))}\n${origins.map((o) => `${o.dbName}:\n  ${o.trace.join("\n  ")}`).join("\n")}`);
    await sleep(5);
  }
  const deadByDb = new Map<string, Set<string>>();
  for (const origin of origins) {
    const dead = await origin.tabs[0]!.deadLetters();
    for (const d of dead) expect(REFUSAL_CODES as readonly string[], "a dead letter holds only a station's refusal").toContain(d.error.code);
    deadByDb.set(origin.dbName, new Set(dead.map((d) => (d.body as { uid: string }).uid)));
  }
  await Promise.all(tabs.map((t) => t.close()));

  const logged = new Map<string, { station: string; offset: number }>();
  for (const [name, station] of world.stations) {
    for (const m of station.log) {
      const uid = (m.body as { uid: string }).uid;
      expect(logged.has(uid), `${uid} stored twice`).toBe(false);
      logged.set(uid, { station: name, offset: m.offset });
    }
  }
  for (const [db, dead] of deadByDb) for (const uid of dead) expect(logged.has(uid), `${uid} is in ${db}'s dead letters and in the log`).toBe(false);
  for (const [uid, where] of acknowledged) {
    const stored = logged.get(uid);
    const refused = [...deadByDb.values()].some((d) => d.has(uid));
    expect(stored !== undefined || refused, `acknowledged ${uid} is neither stored nor a dead letter`).toBe(true);
    if (stored) expect(stored.station).toBe(where.station);
  }
  // In enqueue order per stream: an outbox's actions to a station sit in the log by seq.
  for (const db of new Set([...acknowledged.values()].map((w) => w.db))) {
    for (const station of STATIONS) {
      const offsets = [...acknowledged]
        .filter(([, w]) => w.db === db && w.station === station)
        .sort(([, a], [, b]) => a.seq - b.seq)
        .flatMap(([uid]) => (logged.has(uid) ? [logged.get(uid)!.offset] : []));
      expect(offsets, `${db} → ${station} in enqueue order`).toEqual([...offsets].sort((a, b) => a - b));
    }
  }
  return world.seen;
}

/** The wall clock the SDK sees: it jumps when a simulation says so (backoff must not care). */
const clock = { offsetMs: 0 };
const realNow = Date.now;
// A plain replacement, not a spy: a spy would record every call of a function called this often.
Date.now = () => realNow.call(Date) + clock.offsetMs;
afterAll(() => void (Date.now = realNow));

describe("simulation", () => {
  const seeds = process.env.SIM_SEED ? [Number(process.env.SIM_SEED)] : seedList(Number(process.env.SIM_SEEDS ?? 160));
  it(`loses, doubles and reorders nothing over ${seeds.length} seeds of faults (SIM_SEED=<seed> replays one)`, async () => {
    // Seeds run a few at a time: each waits on timers most of its life. (With 32 at once,
    // fake-indexeddb has been seen to leave a started transaction unfinished, wedging that
    // database; 4 at once has not shown it.)
    const queue = [...seeds];
    const total = { lostAfterCommit: 0, notRulings: 0, refused: 0, conflicts: 0 };
    const run = async () => {
      for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
        try {
          const seen = await simulate(seed);
          for (const key of Object.keys(total) as (keyof typeof total)[]) total[key] += seen[key];
        } catch (error) {
          console.error(`simulation failed; replay with SIM_SEED=${seed}`);
          throw Object.assign(error as Error, { message: `seed ${seed}: ${(error as Error).message}` });
        }
      }
    };
    await Promise.all(Array.from({ length: Number(process.env.SIM_PARALLEL ?? 4) }, run));
    // The runs did what they are for: answers lost after the commit, answers that were not
    // rulings, refusals, and a restored backup's seqs meeting the original's (seq_conflict).
    if (seeds.length >= 50) for (const [kind, count] of Object.entries(total)) expect(count, kind).toBeGreaterThan(0);
  }, 300_000);
});

function seedList(count: number): number[] {
  const base = Math.floor(Math.random() * 2 ** 31);
  return Array.from({ length: count }, (_, i) => (base + i * 7919) % 2 ** 31);
}
