// The server client's producer against a fake station behind `fetch`: batching, the same dedup
// ids on a retried batch (so a lost answer stores nothing twice), a persistent producer whose
// seqs are reserved in its store before sending and renumbered from the station's seq_gap, and
// refusals as WaystationError with the station's code.
import { describe, expect, it } from "vitest";
import { createServerClient, WaystationError } from "../../../client/server/index";
import { WaystationError as BrowserError } from "../../../client/errors";

interface Sent {
  producer?: string;
  messages: Array<{ seq?: number; id?: string; body: unknown }>;
}

/** A station that dedups by id and by (producer, seq), and loses the answers it is told to. */
function fakeStation(options: { loseAnswers?: number; expectedSeq?: number; refuse?: string } = {}) {
  const requests: Sent[] = [];
  const stored: unknown[] = [];
  const ids = new Map<string, number>();
  let next = options.expectedSeq ?? 1;
  let lose = options.loseAnswers ?? 0;
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init!.body)) as Sent;
    requests.push(body);
    const json = (status: number, value: unknown) => new Response(JSON.stringify(value), { status, headers: { "waystation-protocol": "2" } });
    if (options.refuse) return json(404, { error: { code: options.refuse, message: "no" } });
    if (body.producer && body.messages[0]!.seq !== next && body.messages[0]!.seq! > next) {
      return json(409, { error: { code: "seq_gap", message: "gap", expectedSeq: next } });
    }
    const results = body.messages.map((m) => {
      const known = m.id !== undefined ? ids.get(m.id) : undefined;
      if (known !== undefined) return { seq: m.seq ?? null, partition: 0, offset: known, duplicate: true };
      stored.push(m.body);
      if (m.id !== undefined) ids.set(m.id, stored.length);
      if (m.seq !== undefined) next = m.seq + 1;
      return { seq: m.seq ?? null, partition: 0, offset: stored.length, duplicate: false };
    });
    if (lose > 0) {
      lose--;
      throw new TypeError("connection reset"); // stored, answer lost
    }
    return json(200, { results });
  };
  return { fetch: fetch as typeof globalThis.fetch, requests, stored };
}

describe("server producer", () => {
  it("batches sends and resends a batch whose answer was lost with the same ids: stored once", async () => {
    const station = fakeStation({ loseAnswers: 1 });
    const client = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch });
    const producer = client.producer("s", { lingerMs: 5, backoffBaseMs: 1, backoffMaxMs: 2 });
    const results = await Promise.all([1, 2, 3].map((n) => producer.send({ n })));
    expect(station.requests).toHaveLength(2); // one batch, sent twice
    expect(station.requests[1]!.messages.map((m) => m.id)).toEqual(station.requests[0]!.messages.map((m) => m.id));
    expect(station.stored).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([[1, true], [2, true], [3, true]]);
  });

  it("with a store: seqs reserved before sending, and renumbered from seq_gap after a crash", async () => {
    // The store says seq 10 was reserved; the station only saw up to 7 (8–10 were lost in a crash).
    const saved: Array<{ producer: string; seq: number }> = [];
    const store = { load: () => ({ producer: "p-1", seq: 10 }), save: (s: { producer: string; seq: number }) => void saved.push({ ...s }) };
    const station = fakeStation({ expectedSeq: 8 });
    const producer = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch }).producer("s", { store, lingerMs: 0 });
    const first = await producer.send({ n: 1 });
    expect(saved[0]).toEqual({ producer: "p-1", seq: 11 }); // reserved before the request
    expect(station.requests.map((r) => r.messages[0]!.seq)).toEqual([11, 8]);
    expect(first).toMatchObject({ seq: 8, offset: 1, duplicate: false });
    expect(station.requests.every((r) => r.producer === "p-1" && r.messages.every((m) => m.id === undefined))).toBe(true);
  });

  it("rejects with the station's code as the browser's WaystationError, without retrying a refusal", async () => {
    const station = fakeStation({ refuse: "station_not_found" });
    const producer = createServerClient({ url: "http://station.test", token: "t", fetch: station.fetch }).producer("s", { lingerMs: 0 });
    const error = await producer.send({ n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaystationError);
    expect(error).toBeInstanceOf(BrowserError);
    expect(error).toMatchObject({ code: "station_not_found", status: 404 });
    expect(station.requests).toHaveLength(1);
    await producer.close();
    await expect(producer.send({ n: 2 })).rejects.toMatchObject({ code: "closed" });
  });
});
