// Webhooks on a partitioned station (docs/partitions.md, "Webhooks"): every partition delivers
// its own messages, in its own order, each with its partition, all signed with the endpoint's
// one secret — also from partitions the station grew after the endpoint was made.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { partitionFor } from "../../shared/partitions";
import { api, createStation, produce } from "./helpers";
import { keyIn } from "./partitions-helpers";
import { headersOf, mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

vi.setConfig({ testTimeout: 30_000 });

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

/** Verified payloads of every call so far (verification throws on a bad signature). */
function verifiedPayloads(secret: string): any[] {
  const verifier = new Webhook(secret);
  return receiver.calls.map((call) => verifier.verify(call.body, headersOf(call)));
}

describe("webhooks of a partitioned station", () => {
  it("delivers from every partition, in order per key, each payload with its partition, verified with one secret", async () => {
    const station = await createStation({ partitions: 4 });
    const put = await putWebhook(station, "orders", { url: "http://receiver.test/hook" });
    expect(put.status).toBe(201);
    const secret: string = put.body.secret;
    expect(secret).toMatch(/^whsec_/);
    expect(put.body.partitions.map((p: any) => p.partition)).toEqual([0, 1, 2, 3]);

    const keys = [0, 1, 2, 3].map((partition) => keyIn(partition, 4, "w"));
    const messages = keys.flatMap((key) => [1, 2, 3].map((n) => ({ key, body: { key, n } })));
    expect((await produce(station, { messages })).status).toBe(200);
    await waitFor(() => receiver.calls.length >= messages.length, 15_000, "every delivery");

    const payloads = verifiedPayloads(secret);
    expect(payloads).toHaveLength(messages.length);
    for (const key of keys) {
      const ofKey = payloads.filter((payload) => payload.key === key);
      expect(ofKey.map((payload) => payload.body.n)).toEqual([1, 2, 3]);
      expect(ofKey.map((payload) => payload.offset)).toEqual([1, 2, 3]);
      for (const payload of ofKey) expect(payload).toMatchObject({ station, partition: partitionFor(key, null, 4) });
    }

    const info = await api("GET", `/v1/stations/${station}/webhooks/orders`);
    expect(info.status).toBe(200);
    expect(info.body.secret).toBeUndefined();
    await waitFor(async () => {
      const body = (await api("GET", `/v1/stations/${station}/webhooks/orders`)).body;
      return body.partitions.every((p: any) => p.health.delivered === 3) ? body : null;
    }, 10_000, "every partition's deliveries recorded");
    const listed = await api("GET", `/v1/stations/${station}/webhooks`);
    expect(listed.body.webhooks.map((w: any) => [w.name, w.partitions.length])).toEqual([["orders", 4]]);
  });

  it("keeps the one secret on every partition through a PUT without one, and gives it to partitions the station grows", async () => {
    const station = await createStation({ partitions: 2 });
    const put = await putWebhook(station, "audit", { url: "http://receiver.test/audit" });
    const secret: string = put.body.secret;
    // A later PUT without a secret keeps it everywhere.
    const again = await putWebhook(station, "audit", { url: "http://receiver.test/audit", timeoutMs: 5000 });
    expect(again.status).toBe(200);
    expect(again.body.secret).toBeUndefined();
    expect((await api("PUT", `/v1/stations/${station}`, { partitions: 4 })).status).toBe(200);
    const keys = [0, 1, 2, 3].map((partition) => keyIn(partition, 4, "g"));
    expect((await produce(station, { messages: keys.map((key) => ({ key, body: key })) })).status).toBe(200);
    await waitFor(() => receiver.calls.length >= 4, 15_000, "a delivery from each partition");
    const payloads = verifiedPayloads(secret);
    expect(payloads.map((payload) => payload.partition).sort()).toEqual([0, 1, 2, 3]);
    const info = await api("GET", `/v1/stations/${station}/webhooks/audit`);
    expect(info.body.timeoutMs).toBe(5000);
    expect(info.body.partitions).toHaveLength(4);
  });

  it("replays every partition from the earliest, and one partition from an offset", async () => {
    const station = await createStation({ partitions: 2 });
    const put = await putWebhook(station, "replayed", { url: "http://receiver.test/replayed" });
    const keys = [keyIn(0, 2, "r"), keyIn(1, 2, "r")];
    expect((await produce(station, { messages: keys.flatMap((key) => [{ key, body: 1 }, { key, body: 2 }]) })).status).toBe(200);
    await waitFor(() => receiver.calls.length >= 4, 15_000, "the first deliveries");
    const earliest = await api("POST", `/v1/stations/${station}/webhooks/replayed/replay`, { from: "earliest" });
    expect(earliest.status).toBe(200);
    expect(earliest.body.partitions).toHaveLength(2);
    await waitFor(() => receiver.calls.length >= 8, 15_000, "every partition replayed");
    const fromTwo = await api("POST", `/v1/stations/${station}/webhooks/replayed/replay`, { from: 2, partition: 1 });
    expect(fromTwo.status).toBe(200);
    await waitFor(() => receiver.calls.length >= 9, 15_000, "partition 1 replayed from offset 2");
    const payloads = verifiedPayloads(put.body.secret);
    expect(payloads.slice(8).map((p) => [p.partition, p.offset])).toEqual([[1, 2]]);
    expect(payloads.slice(4, 8).map((p) => `${p.partition}:${p.offset}`).sort()).toEqual(["0:1", "0:2", "1:1", "1:2"]);
    expect((await api("POST", `/v1/stations/${station}/webhooks/replayed/replay`, { from: 1, partition: 2 })).status).toBe(422);
  });

  it("deletes the endpoint on every partition", async () => {
    const station = await createStation({ partitions: 3 });
    expect((await putWebhook(station, "gone", { url: "http://receiver.test/gone" })).status).toBe(201);
    expect((await api("DELETE", `/v1/stations/${station}/webhooks/gone`)).status).toBe(200);
    expect((await api("GET", `/v1/stations/${station}/webhooks/gone`)).status).toBe(404);
    expect((await api("GET", `/v1/stations/${station}/webhooks`)).body.webhooks).toEqual([]);
    expect((await produce(station, { messages: [0, 1, 2].map((p) => ({ key: keyIn(p, 3, "d"), body: p })) })).status).toBe(200);
    // A new endpoint of that name starts at the latest messages on every partition: nothing old is delivered.
    expect((await putWebhook(station, "gone", { url: "http://receiver.test/gone" })).status).toBe(201);
    const info = await api("GET", `/v1/stations/${station}/webhooks/gone`);
    expect(info.body.partitions.map((p: any) => p.cursor.lag)).toEqual([0, 0, 0]);
    expect(receiver.calls).toEqual([]);
  });
});
