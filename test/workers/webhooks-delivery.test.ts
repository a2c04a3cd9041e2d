// Webhook delivery from the Station object: signed per Standard Webhooks (verified with the
// official `standardwebhooks` library), the message shape, stable webhook-ids, ordered and
// concurrent endpoints, filters, start positions and secret rotation.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { createStation, produce, seqBatch } from "./helpers";
import { getWebhook, headersOf, mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

vi.setConfig({ testTimeout: 30_000 });

let receiver: Receiver;
beforeEach(() => {
  receiver = mockReceiver();
});
afterEach(() => receiver.restore());

describe("webhook delivery", () => {
  it("posts each new message as JSON signed per Standard Webhooks", async () => {
    const station = await createStation();
    const put = await putWebhook(station, "orders", { url: "http://receiver.test/hook" });
    expect(put.status).toBe(201);
    expect(put.body.secret).toMatch(/^whsec_/);
    await produce(station, { producer: "p", messages: [{ seq: 1, body: { todo: "milk" }, headers: { type: "a" }, key: "k1" }, { seq: 2, body: [1, 2] }] });
    await waitFor(() => receiver.calls.length >= 2, 10_000, "two deliveries");
    const verifier = new Webhook(put.body.secret);
    const first = receiver.calls[0]!;
    expect(first.url).toBe("http://receiver.test/hook");
    expect(first.headers["content-type"]).toBe("application/json");
    const payload = verifier.verify(first.body, headersOf(first)) as any;
    expect(payload).toEqual({
      partition: 0,
      offset: 1,
      producer: "p",
      seq: 1,
      id: null,
      key: "k1",
      headers: { type: "a" },
      body: { todo: "milk" },
      producedAt: expect.any(Number),
      deliveries: 1,
      station,
    });
    expect(verifier.verify(receiver.calls[1]!.body, headersOf(receiver.calls[1]!))).toMatchObject({ offset: 2, body: [1, 2] });
  });
});

const randomSecret = () => "whsec_" + btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

describe("ordering and concurrency", () => {
  it("keeps an ordered endpoint to one delivery in flight, in offset order, across failures", async () => {
    const station = await createStation();
    await putWebhook(station, "ordered", { url: "http://receiver.test/o", retry: { scheduleMs: [5, 5, 5] } });
    let open = 0;
    let maxOpen = 0;
    receiver.reply(async (_, i) => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      await new Promise((resolve) => setTimeout(resolve, 2));
      open -= 1;
      return i % 3 === 1 ? new Response(null, { status: 500 }) : new Response(null, { status: 200 });
    });
    for (let i = 0; i < 4; i++) await produce(station, { messages: Array.from({ length: 5 }, (_, j) => ({ body: i * 5 + j + 1 })) });
    await waitFor(async () => (await getWebhook(station, "ordered")).health.delivered === 20, 20_000, "20 deliveries");
    expect(maxOpen).toBe(1);
    const offsets = receiver.calls.map((c) => c.json.offset as number);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]).toBeGreaterThanOrEqual(offsets[i - 1]!);
    expect([...new Set(offsets)]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("runs up to maxInFlight deliveries at once on an unordered endpoint", async () => {
    const station = await createStation();
    await putWebhook(station, "wide", { url: "http://receiver.test/w", maxInFlight: 4 });
    let open = 0;
    let maxOpen = 0;
    let release: () => void = () => {};
    const fourOpen = new Promise<void>((resolve) => (release = resolve));
    receiver.reply(async () => {
      open += 1;
      maxOpen = Math.max(maxOpen, open);
      if (open >= 4) release();
      // Hold every answer until four are open at once (or give up after a while).
      await Promise.race([fourOpen, new Promise((resolve) => setTimeout(resolve, 2000))]);
      open -= 1;
      return new Response(null, { status: 200 });
    });
    await produce(station, { messages: Array.from({ length: 12 }, (_, i) => ({ body: i })) });
    await waitFor(async () => (await getWebhook(station, "wide")).health.delivered === 12, 20_000, "12 deliveries");
    expect(maxOpen).toBe(4);
    expect(new Set(receiver.calls.map((c) => c.json.offset)).size).toBe(12);
  });

  it("delivers every message to every endpoint of a station", async () => {
    const station = await createStation();
    const urls = ["http://receiver.test/1", "http://receiver.test/2", "http://receiver.test/3"];
    for (const [i, url] of urls.entries()) await putWebhook(station, `fan-${i}`, { url });
    await produce(station, { messages: Array.from({ length: 5 }, (_, i) => ({ body: i })) });
    await waitFor(() => receiver.calls.length >= 15, 10_000, "15 deliveries");
    for (const url of urls) expect(receiver.callsTo(url).map((c) => c.json.offset)).toEqual([1, 2, 3, 4, 5]);
    const ids = (url: string) => receiver.callsTo(url).map((c) => c.headers["webhook-id"]);
    expect(ids(urls[0]!)).toEqual(ids(urls[1]!));
  });
});

describe("what an endpoint receives", () => {
  it("starts after the messages already there by default, or at earliest, or at an offset", async () => {
    const station = await createStation();
    await produce(station, { messages: [{ body: 1 }, { body: 2 }, { body: 3 }] });
    await putWebhook(station, "latest", { url: "http://receiver.test/latest" });
    await putWebhook(station, "earliest", { url: "http://receiver.test/earliest", start: "earliest" });
    await putWebhook(station, "from2", { url: "http://receiver.test/from2", start: 2 });
    await produce(station, { messages: [{ body: 4 }] });
    await waitFor(() => receiver.calls.length >= 1 + 4 + 3, 10_000, "eight deliveries");
    const offsets = (url: string) => receiver.callsTo(url).map((c) => c.json.offset);
    expect(offsets("http://receiver.test/latest")).toEqual([4]);
    expect(offsets("http://receiver.test/earliest")).toEqual([1, 2, 3, 4]);
    expect(offsets("http://receiver.test/from2")).toEqual([2, 3, 4]);
  });

  it("delivers only messages whose headers match the filter, and moves past the others", async () => {
    const station = await createStation();
    await putWebhook(station, "picky", { url: "http://receiver.test/p", filter: { headers: { type: ["order", "refund"], region: "eu" } } });
    await produce(station, {
      messages: [
        { body: 1, headers: { type: "order", region: "eu" } },
        { body: 2, headers: { type: "order", region: "us" } },
        { body: 3, headers: { type: "ping", region: "eu" } },
        { body: 4 },
        { body: 5, headers: { type: "refund", region: "eu", extra: "x" } },
      ],
    });
    const info = await waitFor(async () => {
      const w = await getWebhook(station, "picky");
      return w.health.delivered === 2 && w.cursor.lag === 0 && w;
    }, 10_000, "two matching deliveries");
    expect(receiver.calls.map((c) => c.json.offset)).toEqual([1, 5]);
    expect(info.cursor).toMatchObject({ nextOffset: 6, ackFloor: 5, pending: 0 });
  });
});

describe("secret rotation", () => {
  it("signs with the new and the previous secret during the grace time: both verify", async () => {
    const station = await createStation();
    const created = await putWebhook(station, "rot", { url: "http://receiver.test/r" });
    const oldSecret: string = created.body.secret;
    const newSecret = randomSecret();
    const rotated = await putWebhook(station, "rot", { url: "http://receiver.test/r", secret: newSecret });
    expect(rotated.body.previousSecretExpiresAt).toBeGreaterThan(Date.now() + 23 * 3600 * 1000);
    await produce(station, { messages: [{ body: "both" }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "a delivery");
    expect(call.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(newSecret).verify(call.body, headersOf(call))).toMatchObject({ body: "both" });
    expect(new Webhook(oldSecret).verify(call.body, headersOf(call))).toMatchObject({ body: "both" });
    expect(() => new Webhook(randomSecret()).verify(call.body, headersOf(call))).toThrow();
  });

  it("drops the previous secret at once with rotationGraceMs 0", async () => {
    const station = await createStation();
    const created = await putWebhook(station, "cut", { url: "http://receiver.test/c" });
    const newSecret = randomSecret();
    await putWebhook(station, "cut", { url: "http://receiver.test/c", secret: newSecret, rotationGraceMs: 0 });
    await produce(station, { messages: [{ body: "new only" }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "a delivery");
    expect(call.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    expect(new Webhook(newSecret).verify(call.body, headersOf(call))).toMatchObject({ body: "new only" });
    expect(() => new Webhook(created.body.secret).verify(call.body, headersOf(call))).toThrow();
  });

  it("rejects a tampered body or a stale timestamp", async () => {
    const station = await createStation();
    const created = await putWebhook(station, "tamper", { url: "http://receiver.test/t" });
    await produce(station, { messages: [{ body: { amount: 10 } }] });
    const call = await waitFor(() => receiver.calls[0], 10_000, "a delivery");
    const verifier = new Webhook(created.body.secret);
    expect(() => verifier.verify(call.body.replace("10", "99"), headersOf(call))).toThrow();
    const stale = { ...headersOf(call), "webhook-timestamp": String(Number(call.headers["webhook-timestamp"]) - 3600) };
    expect(() => verifier.verify(call.body, stale)).toThrow();
    expect(Math.abs(Number(call.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(60);
  });
});
