// Compaction of a doc station: the snapshot holds the same state as the raw updates did, the
// covered updates are trimmed only with it, offsets stay dense and never reused, it survives
// a restart, is chunked under the row limit, and loses nothing produced while it runs.
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { encodeBinaryBody } from "../../shared/binary";
import { DOC_SNAPSHOT_CHUNK_BYTES } from "../../shared/docs";
import {
  canonicalState,
  createDocStation,
  produceUpdates,
  readDoc,
  recordingDoc,
  runAlarmNow,
  snapshotRows,
  stationStub,
  textOf,
} from "./docs-helpers";
import { api, produce } from "./helpers";
import { seededRandom as random } from "../seeded-random";


/** `count` random edits (inserts, deletes, map sets), each its own update. */
function randomEdits(count: number, seed: number) {
  const { doc, updates } = recordingDoc();
  const next = random(seed);
  const text = doc.getText("t");
  for (let i = 0; i < count; i++) {
    const roll = next();
    if (roll < 0.6 || text.length === 0) text.insert(Math.floor(next() * (text.length + 1)), `w${i} `);
    else if (roll < 0.85) text.delete(Math.floor(next() * text.length), 1);
    else doc.getMap("m").set(`k${Math.floor(next() * 10)}`, i);
  }
  return { doc, updates };
}

async function stats(station: string) {
  return (await api("GET", `/v1/stations/${station}`)).body.stats;
}

describe("doc compaction", () => {
  it("merges updates into a snapshot with the same state, trims what it covers, keeps offsets", async () => {
    const seed = Date.now() % 100_000;
    console.log(`docs-compaction seed ${seed}`);
    const station = await createDocStation({ doc: { compactAfterUpdates: 50 } });
    const { doc, updates } = randomEdits(120, seed);
    await produceUpdates(station, "p", updates);
    const before = await readDoc(station);

    await runAlarmNow(station);

    const { meta } = await snapshotRows(station);
    expect(meta).toMatchObject({ covers_offset: 120, compactions: 1 });
    const after = await readDoc(station);
    expect(after).toMatchObject({ offset: 120, snapshotOffset: 120, tailUpdates: 0 });
    expect(canonicalState(after.update)).toEqual(canonicalState(before.update));
    expect(canonicalState(after.update)).toEqual(Y.encodeStateAsUpdate(doc));
    expect(await stats(station)).toMatchObject({ firstOffset: 121, lastOffset: 120, messages: 0, bytes: 0, produced: 120 });

    // The next update gets the next offset: none is reused after the trim.
    doc.getText("t").insert(0, "after ");
    const [offset] = await produceUpdates(station, "p", updates.slice(120), 121);
    expect(offset).toBe(121);
    const latest = await readDoc(station);
    expect(latest).toMatchObject({ offset: 121, snapshotOffset: 120 });
    expect(textOf(latest.update)).toBe(doc.getText("t").toString());
  });

  it("does nothing before compactAfterUpdates updates or compactAfterBytes bytes", async () => {
    const station = await createDocStation({ doc: { compactAfterUpdates: 100 } });
    const { updates } = randomEdits(20, 7);
    await produceUpdates(station, "p", updates);
    await runAlarmNow(station);
    expect((await snapshotRows(station)).meta).toBeNull();
    expect(await stats(station)).toMatchObject({ firstOffset: 1, messages: 20 });
  });

  it("compacts once the updates since the snapshot reach compactAfterBytes", async () => {
    const station = await createDocStation({ doc: { compactAfterBytes: 2000 } });
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "x".repeat(3000));
    await produceUpdates(station, "p", updates);
    await runAlarmNow(station);
    expect((await snapshotRows(station)).meta).toMatchObject({ covers_offset: 1 });
  });

  it("meets retention.maxMessages by compacting, never by dropping an unmerged update", async () => {
    const station = await createDocStation({ retention: { maxMessages: 10 } });
    const { doc, updates } = randomEdits(35, 11);
    await produceUpdates(station, "p", updates, 1, 7);
    await runAlarmNow(station);
    const state = await readDoc(station);
    expect(canonicalState(state.update)).toEqual(Y.encodeStateAsUpdate(doc));
    expect((await stats(station)).messages).toBeLessThanOrEqual(10);
  });

  it("keeps the same state across an object restart, and compacts again on top", async () => {
    const station = await createDocStation({ doc: { compactAfterUpdates: 30 } });
    const { doc, updates } = randomEdits(100, 23);
    await produceUpdates(station, "p", updates.slice(0, 60));
    await runAlarmNow(station);
    const before = await readDoc(station);

    await evictDurableObject(stationStub(station));
    const restarted = await readDoc(station);
    expect(restarted).toMatchObject({ offset: 60, snapshotOffset: 60 });
    expect(canonicalState(restarted.update)).toEqual(canonicalState(before.update));

    await produceUpdates(station, "p", updates.slice(60), 61);
    await runAlarmNow(station);
    await evictDurableObject(stationStub(station));
    const final = await readDoc(station);
    expect(final).toMatchObject({ offset: 100, snapshotOffset: 100 });
    expect(canonicalState(final.update)).toEqual(Y.encodeStateAsUpdate(doc));
    expect((await snapshotRows(station)).meta).toMatchObject({ compactions: 2 });
  });

  it("never loses an update produced while compaction runs", async () => {
    const station = await createDocStation({ doc: { compactAfterUpdates: 20 } });
    const writers = [randomEdits(200, 31), randomEdits(200, 32), randomEdits(200, 33)];
    await Promise.all(writers.map((w, i) => produceUpdates(station, `p${i}`, w.updates.slice(0, 50))));
    // Each writer sends the rest one update per request while alarms compact in between.
    const stub = stationStub(station);
    const alarms = (async () => {
      for (let i = 0; i < 20; i++) await Promise.all([runDurableObjectAlarm(stub), runAlarmNow(station)]);
    })();
    await Promise.all([
      alarms,
      ...writers.map(async (w, i) => {
        for (let seq = 51; seq <= 200; seq += 10) {
          const messages = w.updates.slice(seq - 1, seq + 9).map((u, j) => ({ seq: seq + j, body: encodeBinaryBody(u) }));
          const res = await produce(station, { producer: `p${i}`, messages });
          expect(res.status).toBe(200);
        }
      }),
    ]);
    await runAlarmNow(station);
    const state = await readDoc(station);
    expect(state.offset).toBe(600);
    expect(canonicalState(state.update)).toEqual(canonicalState(...writers.map((w) => Y.encodeStateAsUpdate(w.doc))));
    expect((await snapshotRows(station)).meta!.compactions).toBeGreaterThan(1);
  });

  it("chunks a snapshot larger than one SQLite row and reads it back whole", async () => {
    const station = await createDocStation({ doc: { compactAfterBytes: 1 } });
    const { doc, updates } = recordingDoc();
    const next = random(99);
    const text = doc.getText("t");
    // Five updates of ~600 KB of incompressible text: a ~3 MB snapshot.
    for (let i = 0; i < 5; i++) {
      let chunk = "";
      for (let j = 0; j < 600_000; j++) chunk += String.fromCharCode(97 + Math.floor(next() * 26));
      text.insert(text.length, chunk);
    }
    await produceUpdates(station, "p", updates, 1, 1);
    await runAlarmNow(station);

    const { meta, chunkSizes } = await snapshotRows(station);
    expect(meta!.covers_offset).toBe(5);
    expect(chunkSizes.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...chunkSizes)).toBeLessThanOrEqual(DOC_SNAPSHOT_CHUNK_BYTES);
    expect(chunkSizes.reduce((a, b) => a + b, 0)).toBe(meta!.bytes);

    await evictDurableObject(stationStub(station));
    expect(textOf((await readDoc(station)).update)).toBe(text.toString());
  });
});
