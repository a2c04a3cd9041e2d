// Doc updates are ordinary messages to every reader of the log: consumer groups fetch them,
// webhooks receive them as the same JSON, and with `retention.untilAcked` they stay until every
// group acked them — but never leave before a durable snapshot holds them.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { decodeBinaryBody } from "../../shared/binary";
import { canonicalState, createDocStation, produceUpdates, readDoc, recordingDoc, runAlarmNow, snapshotRows, stationStub } from "./docs-helpers";
import { ack, take } from "./groups-helpers";
import { api } from "./helpers";
import { mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

function edits(count: number) {
  const { doc, updates } = recordingDoc();
  for (let i = 0; i < count; i++) doc.getText("t").insert(doc.getText("t").length, `${i} `);
  return { doc, updates };
}

async function stats(station: string) {
  return (await api("GET", `/v1/stations/${station}`)).body.stats;
}

async function alarmAt(station: string): Promise<number | null> {
  return runInDurableObject(stationStub(station), (_instance, state) => state.storage.getAlarm());
}

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

describe("doc updates and the readers of the log", () => {
  it("hands doc updates to a consumer group as binary bodies, in offset order", async () => {
    const station = await createDocStation();
    const { doc, updates } = edits(5);
    await api("PUT", `/v1/stations/${station}/groups/indexer`, { start: "earliest" });
    await produceUpdates(station, "p", updates);
    const messages = await take(station, "indexer", "c1", 10);
    expect(messages.map((m) => m.offset)).toEqual([1, 2, 3, 4, 5]);
    const replica = new Y.Doc();
    for (const m of messages) Y.applyUpdate(replica, decodeBinaryBody(m.body)!);
    expect(replica.getText("t").toString()).toBe(doc.getText("t").toString());
  });

  it("posts doc updates to webhooks as the same JSON message", async () => {
    const station = await createDocStation();
    await putWebhook(station, "mirror", { url: "http://receiver.test/doc" });
    const { updates } = edits(2);
    await produceUpdates(station, "p", updates);
    await waitFor(() => receiver.calls.length >= 2, 10_000, "two deliveries");
    const bodies = receiver.calls.map((c) => decodeBinaryBody(c.json.body));
    expect(bodies).toEqual(updates);
    expect(receiver.calls[0]!.json).toMatchObject({ offset: 1, station, body: { $binary: expect.any(String) } });
  });

  it("with untilAcked keeps acked updates until a snapshot holds them, then trims them", async () => {
    const station = await createDocStation({ retention: { untilAcked: true }, doc: { compactAfterUpdates: 1000 } });
    await api("PUT", `/v1/stations/${station}/groups/indexer`, { start: "earliest" });
    const { doc, updates } = edits(20);
    await produceUpdates(station, "p", updates);
    const taken = await take(station, "indexer", "c1", 20);
    expect((await ack(station, "indexer", taken.map((m) => m.offset))).status).toBe(200);

    // Every group acked them, but no snapshot holds them yet: they stay, and no alarm spins.
    await runAlarmNow(station);
    expect(await stats(station)).toMatchObject({ firstOffset: 1, messages: 20 });
    const due = await alarmAt(station);
    expect(due === null || due > Date.now() + 1000).toBe(true);

    // Compaction makes the snapshot durable; the acked prefix goes in the same alarm run.
    await api("PUT", `/v1/stations/${station}`, { kind: "doc", retention: { untilAcked: true }, doc: { compactAfterUpdates: 10 } });
    await runAlarmNow(station);
    expect((await snapshotRows(station)).meta).toMatchObject({ covers_offset: 20 });
    expect(await stats(station)).toMatchObject({ firstOffset: 21, messages: 0, lastOffset: 20 });
    expect(canonicalState((await readDoc(station)).update)).toEqual(Y.encodeStateAsUpdate(doc));
  });

  it("with untilAcked keeps compacted updates a group has not acked, for replay and the group", async () => {
    const station = await createDocStation({ retention: { untilAcked: true }, doc: { compactAfterUpdates: 5 } });
    await api("PUT", `/v1/stations/${station}/groups/slow`, { start: "earliest" });
    const { updates } = edits(12);
    await produceUpdates(station, "p", updates);
    await runAlarmNow(station);
    expect((await snapshotRows(station)).meta).toMatchObject({ covers_offset: 12 });
    const replay = await api("GET", `/v1/stations/${station}/messages?from=1`);
    expect(replay.body.messages.map((m: any) => decodeBinaryBody(m.body))).toEqual(updates);
    expect((await take(station, "slow", "c1", 20)).length).toBe(12);
  });

  it("without untilAcked trims what the snapshot holds, and a doc reader loses nothing", async () => {
    const station = await createDocStation({ doc: { compactAfterUpdates: 5 } });
    const { doc, updates } = edits(12);
    await produceUpdates(station, "p", updates);
    await runAlarmNow(station);
    expect(await stats(station)).toMatchObject({ firstOffset: 13, messages: 0 });
    expect(textOf((await readDoc(station)).update)).toBe(doc.getText("t").toString());
  });
});

function textOf(update: Uint8Array): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText("t").toString();
}
