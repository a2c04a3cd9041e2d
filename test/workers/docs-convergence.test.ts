// Seeded simulation: two and three Y.Docs edit one doc station while offline, their pending
// edits merged as the SDK's outbox merges them, and reconnect in random orders, with random
// compactions and object restarts in between. Every copy must converge with the station's.
// The seed is printed; rerun one with DOCS_SEED=<seed>.
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { encodeBinaryBody } from "../../shared/binary";
import { canonicalState, createDocStation, readDoc, runAlarmNow, stationStub } from "./docs-helpers";
import { produce } from "./helpers";
import { seededRandom as random } from "../seeded-random";


/** A client as the SDK runs one: a doc, local edits merged while pending, a producer seq. */
class SimClient {
  readonly doc = new Y.Doc();
  private pending: Uint8Array[] = [];
  private seq = 0;
  online = false;

  constructor(readonly name: string, readonly station: string) {
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin !== "remote") this.pending.push(update);
    });
  }

  edit(next: () => number, step: number): void {
    const text = this.doc.getText("t");
    const roll = next();
    if (roll < 0.55 || text.length === 0) text.insert(Math.floor(next() * (text.length + 1)), `${this.name}${step} `);
    else if (roll < 0.8) text.delete(Math.floor(next() * text.length), Math.min(3, text.length));
    else if (roll < 0.9) this.doc.getMap("m").set(`k${Math.floor(next() * 5)}`, `${this.name}${step}`);
    else this.doc.getArray("a").insert(0, [step]);
  }

  /** Sends the pending edits as ONE merged update, then catches up with its state vector. */
  async sync(): Promise<void> {
    if (this.pending.length > 0) {
      const merged = Y.mergeUpdates(this.pending);
      const res = await produce(this.station, { producer: this.name, messages: [{ seq: this.seq + 1, body: encodeBinaryBody(merged) }] });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      this.seq += 1;
      this.pending = [];
    }
    const state = await readDoc(this.station, Y.encodeStateVector(this.doc));
    Y.applyUpdate(this.doc, state.update, "remote");
  }
}

async function simulate(clientCount: number, steps: number, seed: number): Promise<void> {
  console.log(`docs-convergence: ${clientCount} clients, ${steps} steps, seed ${seed}`);
  const next = random(seed);
  const station = await createDocStation({ doc: { compactAfterUpdates: 1 + Math.floor(next() * 8) } });
  const clients = Array.from({ length: clientCount }, (_, i) => new SimClient(`c${i}`, station));
  for (let step = 0; step < steps; step++) {
    const client = clients[Math.floor(next() * clients.length)]!;
    const roll = next();
    if (roll < 0.7) {
      const burst = 1 + Math.floor(next() * 5);
      for (let i = 0; i < burst; i++) client.edit(next, step);
      if (client.online) await client.sync();
    } else if (roll < 0.85) {
      client.online = !client.online;
      if (client.online) await client.sync();
    } else if (roll < 0.95) {
      await runAlarmNow(station);
    } else {
      await runAlarmNow(station); // wakes the object: only a running object can be evicted
      await evictDurableObject(stationStub(station));
    }
  }
  // Everyone comes back, in a random order, and syncs twice (the second pass gets what the
  // later ones sent after the first).
  for (let pass = 0; pass < 2; pass++) {
    const order = [...clients].sort(() => next() - 0.5);
    for (const client of order) await client.sync();
  }
  const server = canonicalState((await readDoc(station)).update);
  const texts = clients.map((c) => c.doc.getText("t").toString());
  for (const client of clients) {
    expect(Y.encodeStateAsUpdate(client.doc), `seed ${seed}`).toEqual(server);
    expect(client.doc.getText("t").toString(), `seed ${seed}`).toBe(texts[0]);
  }
}

const baseSeed = Number(process.env.DOCS_SEED ?? Date.now() % 1_000_000);

describe("offline editing converges", () => {
  it("two docs editing offline and reconnecting in random orders converge", async () => {
    for (let run = 0; run < 3; run++) await simulate(2, 120, baseSeed + run);
  }, 120_000);

  it("three docs editing offline and reconnecting in random orders converge", async () => {
    for (let run = 0; run < 3; run++) await simulate(3, 200, baseSeed + 100 + run);
  }, 120_000);
});
