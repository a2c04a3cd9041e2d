// Webhook delivery from the Station object: signed per Standard Webhooks (verified with the
// official `standardwebhooks` library), the message shape, stable webhook-ids, ordered and
// concurrent endpoints, filters, start positions and secret rotation.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { createStation, produce, seqBatch } from "./helpers";
import { getWebhook, headersOf, mockReceiver, putWebhook, type Receiver, waitFor } from "./webhook-helpers";

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
