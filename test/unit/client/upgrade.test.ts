// Outboxes written by earlier SDKs opened by this one. Version 1 (fixtures/outbox-v1.json: one
// producer per database, a renumbered stream): the pending actions go out with exactly the wire
// seqs the old SDK would have sent, under the old producer (their answers may have been lost), so
// nothing is lost or stored twice; new actions start a producer of their stream's own. Version 2
// (fixtures/outbox-v2.json: a stream per station): its streams are partition 0's and sync on.
import { readFileSync } from "node:fs";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Client } from "../../../client/index";
import { makeClient, startStationServer, waitFor } from "./helpers";

interface Dump {
  version: number;
  stores: Record<string, { keyPath: string | string[] | null; autoIncrement: boolean; indexes?: Record<string, string> }>;
  records: Record<string, Record<string, unknown>[]>;
}

const readDump = (name: string) => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")) as Dump;
const fixture = readDump("outbox-v1.json");
const fixtureV2 = readDump("outbox-v2.json");
const LEGACY_PRODUCER = (fixture.records.meta![0] as { value: string }).value;

/** Writes the dump with the old layout, at the old version, with plain IndexedDB (no SDK code). */
function loadFixture(dbName: string, dump = fixture): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(dbName, dump.version);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [name, { keyPath, autoIncrement, indexes }] of Object.entries(dump.stores)) {
        const store = keyPath === null ? db.createObjectStore(name, { autoIncrement }) : db.createObjectStore(name, { keyPath, autoIncrement });
        for (const [index, path] of Object.entries(indexes ?? {})) store.createIndex(index, path);
        for (const record of dump.records[name] ?? []) {
          if (keyPath === null) store.put((record as { value: unknown }).value, (record as { key: string }).key);
          else store.put(record);
        }
      }
    };
    request.onsuccess = () => {
      request.result.close();
      resolve();
    };
    request.onerror = () => reject(request.error);
  });
}

const server = startStationServer();
const clients: Client[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.requests.length = 0;
});
afterAll(() => server.close());

describe("upgrading an outbox of version 1", () => {
  it("syncs the old entries on at their old wire seqs under the old producer, losing and doubling nothing", async () => {
    await loadFixture("upgrade-v1");
    // What the station holds from the old SDK: seq 3 acknowledged as wire seq 1, seq 4 stored as wire seq 2 (answer lost).
    server.station("legacy-renumbered").produce({
      producer: LEGACY_PRODUCER,
      messages: [
        { seq: 1, body: { n: "r3" } },
        { seq: 2, body: { n: "r4" } },
      ],
    });
    const c = makeClient({ dbName: "upgrade-v1" });
    clients.push(c);
    const acked: [string, number, boolean][] = [];
    c.on("acked", (e) => acked.push([e.station, e.seq, e.duplicate]));
    await waitFor(async () => (await c.pending()).length === 0, "the old entries to sync");

    expect(server.station("legacy-renumbered").log.map((m) => [m.producer, m.seq, m.body, m.headers])).toEqual([
      [LEGACY_PRODUCER, 1, { n: "r3" }, undefined],
      [LEGACY_PRODUCER, 2, { n: "r4" }, undefined],
      [LEGACY_PRODUCER, 3, { n: "r5" }, { kind: "legacy" }],
    ]);
    expect(server.station("legacy-plain").log.map((m) => [m.producer, m.seq, m.body, m.id])).toEqual([
      [LEGACY_PRODUCER, 1, { n: "p1" }, undefined],
      [LEGACY_PRODUCER, 2, { n: "p2" }, "app-id-2"],
    ]);
    // Old entries carry no action id (the station ruled on them without one), the app's id stays.
    const sent = server.requests.filter((r) => r.station === "legacy-renumbered")[0]!;
    expect([sent.producer, sent.seqs, sent.ids]).toEqual([LEGACY_PRODUCER, [2, 3], [undefined, undefined]]);
    expect(acked.filter(([s]) => s === "legacy-renumbered").map(([, seq, duplicate]) => [seq, duplicate])).toEqual([
      [4, true],
      [5, false],
    ]);

    // The old dead letters are still there, and counted.
    expect((await c.deadLetters()).map((d) => [d.station, d.seq, d.error.code])).toEqual([
      ["legacy-renumbered", 1, "station_not_found"],
      ["legacy-renumbered", 2, "station_not_found"],
    ]);
    await waitFor(() => c.status.deadLetters === 2, "the status to count the old dead letters");

    // New actions go on after the old ones, under a producer of the stream's own, from wire seq 1.
    const { seq } = await c.station("legacy-renumbered").enqueue({ n: "r6" });
    expect(seq).toBe(6);
    await waitFor(() => server.station("legacy-renumbered").log.length === 4, "the new action stored");
    const producer = await c.producerId("legacy-renumbered");
    expect(producer).not.toBe(LEGACY_PRODUCER);
    expect(server.station("legacy-renumbered").log[3]).toMatchObject({ producer, seq: 1, body: { n: "r6" } });
    expect(await c.producerId("legacy-plain")).not.toBe(producer);

    // A retried old dead letter is a new action at the end of its stream.
    const retried = await c.retryDeadLetter((await c.deadLetters())[0]!.deadLetterId);
    expect(retried).toEqual({ station: "legacy-renumbered", seq: 7, partition: 0 });
    await waitFor(() => server.station("legacy-renumbered").log.length === 5, "the retried action stored");
    expect(server.station("legacy-renumbered").log[4]).toMatchObject({ producer, seq: 2, body: { n: "r1" } });
  });
});

describe("upgrading an outbox of version 2", () => {
  it("syncs its streams on as partition 0's, under their producers and wire seqs, and routes new actions from there", async () => {
    await loadFixture("upgrade-v2", fixtureV2);
    const producer = "web-feedc0de00112233445566778899aabb";
    // What the station holds from the old SDK: seqs 1 and 2 (the answer to 2 was lost).
    server.station("legacy-v2").produce({ producer, messages: [{ seq: 1, body: { n: 1 } }, { seq: 2, body: { n: 2 }, id: "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2" }] });
    const c = makeClient({ dbName: "upgrade-v2" });
    clients.push(c);
    const acked: [string, number, number, boolean][] = [];
    c.on("acked", (e) => acked.push([e.station, e.partition, e.seq, e.duplicate]));
    expect((await c.pending()).map((a) => [a.station, a.partition, a.seq, a.key])).toEqual([
      ["legacy-v2", 0, 2, "user-1"],
      ["legacy-v2", 0, 3, "user-2"],
    ]);
    await waitFor(async () => (await c.pending()).length === 0, "the old entries to sync");
    const sent = server.requests.filter((r) => r.station === "legacy-v2")[0]!;
    expect([sent.producer, sent.partition, sent.seqs]).toEqual([producer, 0, [2, 3]]);
    expect(acked).toEqual([
      ["legacy-v2", 0, 2, true],
      ["legacy-v2", 0, 3, false],
    ]);
    expect(server.station("legacy-v2").log.map((m) => [m.partition, m.producer, m.seq, m.body])).toEqual([
      [0, producer, 1, { n: 1 }],
      [0, producer, 2, { n: 2 }],
      [0, producer, 3, { n: 3 }],
    ]);
    // New actions go on in partition 0's stream, under the same producer.
    expect(await c.station("legacy-v2").enqueue({ n: 4 }, { key: "user-1" })).toEqual({ seq: 4, partition: 0 });
    await waitFor(() => server.station("legacy-v2").log.length === 4, "the new action stored");
    expect(server.station("legacy-v2").log[3]).toMatchObject({ partition: 0, producer, seq: 4 });
    expect(await c.producerId("legacy-v2")).toBe(producer);
    // The old dead letter is there, counted, and retried into its stream.
    expect((await c.deadLetters()).map((d) => [d.station, d.partition, d.seq, d.error.code])).toEqual([["legacy-v2-dead", 0, 1, "message_too_large"]]);
    await waitFor(() => c.status.deadLetters === 1, "the status to count the old dead letter");
    expect(await c.retryDeadLetter(1)).toEqual({ station: "legacy-v2-dead", seq: 2, partition: 0 });
    await waitFor(() => server.station("legacy-v2-dead").log.length === 1, "the retried action stored");
    expect(server.station("legacy-v2-dead").log[0]).toMatchObject({ partition: 0, body: { n: 1 } });
  });
});
