// A seeded simulation: producers and many consumers in two groups fetching, acking, nacking,
// "crashing" (abandoning their leases), dead letters resent, and object restarts, in a random
// interleaving. At the end every message is acked or dead-lettered exactly once per group,
// and no message was ever held by two consumers of a group at once. A failure names its seed:
// put it in REPLAY_SEED to run that interleaving again.
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, produce } from "./helpers";
import { ack, createGroups, deadLetters, fetchGroup, fireAlarm, groupInfo, nack, pass, seededRandom, stationStub, stationWith } from "./groups-helpers";

const REPLAY_SEED: number | null = null;
const ACK_TIMEOUT_MS = 100;
const MAX_DELIVERIES = 4;
const MESSAGES = 60;
const GROUPS = ["alpha", "beta"];
const CONSUMERS = 4;
const STEPS = 260;

interface Held {
  offset: number;
  /** Client time just before the fetch that leased it: the lease runs at least until this + ackTimeoutMs. */
  leasedFrom: number;
}

interface GroupBook {
  /** Offsets whose ack answered `acked: 1`: acked now, and never before. */
  acked: Set<number>;
  /** Who holds what, as the consumers believe. */
  held: Map<string, Held[]>;
  violations: string[];
}

async function simulate(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const station = await stationWith(0, { ackTimeoutMs: ACK_TIMEOUT_MS, maxDeliveries: MAX_DELIVERIES });
  await createGroups(station, GROUPS);
  const books = new Map<string, GroupBook>(GROUPS.map((g) => [g, { acked: new Set(), held: new Map(), violations: [] }]));
  let produced = 0;

  const ackOne = async (group: string, book: GroupBook, offset: number) => {
    const res = await ack(station, group, [offset]);
    expect(res.status).toBe(200);
    if (res.body.acked === 1) {
      if (book.acked.has(offset)) book.violations.push(`${group}: offset ${offset} acked twice`);
      book.acked.add(offset);
    }
  };

  const fetchFor = async (group: string, book: GroupBook, consumer: string, max: number) => {
    const leasedFrom = Date.now();
    const res = await fetchGroup(station, group, { consumer, max });
    expect(res.status).toBe(200);
    for (const message of res.body.messages) {
      if (message.deliveries < 1 || message.deliveries > MAX_DELIVERIES) book.violations.push(`${group}: deliveries ${message.deliveries}`);
      for (const [other, list] of book.held) {
        const clash = list.find((h) => h.offset === message.offset && Date.now() < h.leasedFrom + ACK_TIMEOUT_MS);
        if (clash && other !== consumer) book.violations.push(`${group}: offset ${message.offset} held by ${other} and ${consumer}`);
      }
      for (const list of book.held.values()) {
        const index = list.findIndex((h) => h.offset === message.offset);
        if (index >= 0) list.splice(index, 1);
      }
      book.held.set(consumer, [...(book.held.get(consumer) ?? []), { offset: message.offset, leasedFrom }]);
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const group = pick(GROUPS);
    const book = books.get(group)!;
    const consumer = `${group}-c${Math.floor(random() * CONSUMERS)}`;
    const held = book.held.get(consumer) ?? [];
    const roll = random();
    if (roll < 0.15 && produced < MESSAGES) {
      const n = Math.min(MESSAGES - produced, 1 + Math.floor(random() * 6));
      const res = await produce(station, { messages: Array.from({ length: n }, (_, i) => ({ body: { n: produced + i + 1 } })) });
      expect(res.status).toBe(200);
      produced += n;
    } else if (roll < 0.45) {
      await fetchFor(group, book, consumer, 1 + Math.floor(random() * 8));
    } else if (roll < 0.7 && held.length > 0) {
      const taken = held.splice(0, 1 + Math.floor(random() * held.length));
      for (const h of taken) await ackOne(group, book, h.offset);
    } else if (roll < 0.8 && held.length > 0) {
      const taken = held.splice(0, 1 + Math.floor(random() * held.length));
      const res = await nack(station, group, taken.map((h) => h.offset), pick([0, 0, 30]));
      expect(res.status).toBe(200);
    } else if (roll < 0.88) {
      book.held.delete(consumer); // crash: its leases are abandoned
    } else if (roll < 0.92) {
      const letters = await deadLetters(station, `?group=${group}`);
      if (letters.length > 0) {
        const res = await api("POST", `/v1/stations/${station}/dls/resend`, { ids: [pick(letters).id] });
        expect(res.body.refused).toEqual([]);
      }
    } else if (roll < 0.94) {
      // Restart; twice in a row finds nothing running, which is fine.
      await evictDurableObject(stationStub(station)).catch((error: Error) => {
        if (!/not currently running/.test(error.message)) throw error;
      });
    } else {
      await pass(Math.floor(random() * 60));
      if (random() < 0.5) await fireAlarm(station);
    }
  }

  // Drain: the rest gets produced, every consumer crashes, a finisher acks all it gets.
  if (produced < MESSAGES) {
    await produce(station, { messages: Array.from({ length: MESSAGES - produced }, (_, i) => ({ body: { n: produced + i + 1 } })) });
    produced = MESSAGES;
  }
  for (const [group, book] of books) {
    book.held.clear();
    for (let round = 0; round < 50; round++) {
      await fetchFor(group, book, `${group}-finisher`, 100);
      for (const h of book.held.get(`${group}-finisher`) ?? []) await ackOne(group, book, h.offset);
      book.held.clear();
      const info = await groupInfo(station, group);
      if (info.ackFloor === MESSAGES && info.pending === 0 && info.redeliveries === 0) break;
      await pass(ACK_TIMEOUT_MS + 20);
      await fireAlarm(station);
    }
  }

  for (const [group, book] of books) {
    expect(book.violations, `seed ${seed}`).toEqual([]);
    const letters = await deadLetters(station, `?group=${group}&limit=1000`);
    const dead = letters.map((l) => l.offset as number);
    for (const letter of letters) expect(letter.deliveries, `seed ${seed}`).toBe(MAX_DELIVERIES);
    expect(new Set(dead).size, `seed ${seed}: a message dead-lettered twice in ${group}`).toBe(dead.length);
    const both = dead.filter((offset) => book.acked.has(offset));
    expect(both, `seed ${seed}: acked and dead-lettered in ${group}`).toEqual([]);
    const accounted = [...book.acked, ...dead].sort((a, b) => a - b);
    expect(accounted, `seed ${seed}: every message acked or dead-lettered once in ${group}`).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => i + 1),
    );
    expect(await groupInfo(station, group), `seed ${seed}`).toMatchObject({ ackFloor: MESSAGES, pending: 0, lag: 0, redeliveries: 0 });
  }
}

describe("random interleavings", () => {
  const seeds = REPLAY_SEED !== null ? [REPLAY_SEED] : [1, 2, Math.floor(Math.random() * 2 ** 31)];
  for (const seed of seeds) {
    it(`accounts for every message exactly once per group (seed ${seed})`, { timeout: 120_000 }, async () => {
      try {
        await simulate(seed);
      } catch (error) {
        console.error(`groups-random failed with seed ${seed} (set REPLAY_SEED = ${seed} to replay)`);
        throw error;
      }
    });
  }
});
