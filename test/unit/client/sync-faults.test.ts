// The sync engine against a produce route that loses answers, refuses, throttles and resets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AckedEvent, Client, RejectedEvent, Status } from "../../../client/index";
import { error, json } from "./fake-station";
import { makeClient, startStationServer, TOKEN, waitFor } from "./helpers";

const server = startStationServer();
const clients: Client[] = [];

function client(options: Parameters<typeof makeClient>[0] = {}): Client {
  const c = makeClient(options);
  clients.push(c);
  return c;
}

function record(c: Client) {
  const acked: AckedEvent[] = [];
  const rejected: RejectedEvent[] = [];
  const statuses: Status[] = [];
  c.on("acked", (e) => acked.push(e));
  c.on("rejected", (e) => rejected.push(e));
  c.on("status", (s) => statuses.push(s));
  return { acked, rejected, statuses };
}

async function drained(c: Client) {
  await waitFor(async () => (await c.pending()).length === 0, "the outbox to drain");
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
  server.state.refuse = () => undefined;
  server.state.delayMs = 0;
  server.state.maxInFlight = 0;
});
afterAll(() => server.close());
beforeAll(() => undefined);

describe("sync", () => {
  it("delivers enqueued actions once, in order, and reports their offsets", async () => {
    const c = client();
    const events = record(c);
    const todos = c.station("todos-order");
    const seqs = [];
    for (let i = 0; i < 5; i++) seqs.push((await todos.enqueue({ i })).seq);
    expect(seqs).toEqual([1, 2, 3, 4, 5]);
    await drained(c);
    const log = server.station("todos-order").log;
    expect(log.map((m) => m.body)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(log.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(events.acked.map((e) => [e.seq, e.offset, e.duplicate])).toEqual(log.map((m) => [m.seq, m.offset, false]));
    await waitFor(() => c.status.state === "idle", "idle");
  });

  it("resends after an answer lost once the station committed, and acks each action once", async () => {
    const c = client();
    const events = record(c);
    server.faults.push({ kind: "lose-response" });
    const todos = c.station("lost-answer");
    await todos.enqueue("a");
    await todos.enqueue("b");
    await drained(c);
    const log = server.station("lost-answer").log;
    expect(log.map((m) => m.body)).toEqual(["a", "b"]);
    // The second request carried the same seqs and was answered as duplicates.
    expect(server.requests.filter((r) => r.station === "lost-answer").length).toBeGreaterThanOrEqual(2);
    expect(events.acked.map((e) => e.seq).sort()).toEqual([1, 2]);
    expect(events.acked.every((e) => e.duplicate)).toBe(true);
    expect(events.acked.map((e) => e.offset)).toEqual([1, 2]);
  });

  it("waits for Retry-After on 503 before trying again, showing the error meanwhile", async () => {
    const c = client();
    const events = record(c);
    server.faults.push({ kind: "status", status: 503, body: error("not_configured", "busy"), headers: { "retry-after": "1" } });
    await c.station("retry-after").enqueue({ x: 1 });
    await waitFor(() => events.statuses.some((s) => s.state === "error" && s.retryAt !== undefined), "the error status");
    const errored = events.statuses.find((s) => s.state === "error")!;
    expect(errored.error?.status).toBe(503);
    await drained(c);
    const [first, second] = server.requests.filter((r) => r.station === "retry-after");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
    expect(server.station("retry-after").log).toHaveLength(1);
  });

  it("honours Retry-After on 429 even when flushed", async () => {
    const c = client();
    server.faults.push({ kind: "status", status: 429, body: error("rate_limited", "slow down"), headers: { "retry-after": "1" } });
    await c.station("rate").enqueue(1);
    await waitFor(() => c.status.state === "error", "the 429");
    await c.flush();
    expect(server.requests.filter((r) => r.station === "rate")).toHaveLength(1);
    await drained(c);
    const [first, second] = server.requests.filter((r) => r.station === "rate");
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1000);
  });

  it("shows offline on network errors, backs off, and delivers once the network is back", async () => {
    const c = client();
    const events = record(c);
    server.faults.push({ kind: "network" }, { kind: "network" }, { kind: "network" });
    const st = c.station("flaky");
    for (let i = 0; i < 3; i++) await st.enqueue(i);
    await drained(c);
    expect(events.statuses.some((s) => s.state === "offline")).toBe(true);
    expect(server.station("flaky").log.map((m) => m.body)).toEqual([0, 1, 2]);
    expect(events.acked.map((e) => e.seq)).toEqual([1, 2, 3]);
    await waitFor(() => c.status.state === "idle", "idle after recovery");
  });

  it("moves to a new producer after seq_gap below what it sent (the station was deleted and made again), never renumbering", async () => {
    const c = client();
    const st = c.station("gap");
    await st.enqueue("before-1");
    await st.enqueue("before-2");
    await drained(c);
    const before = await c.producerId("gap");
    server.station("gap").reset();
    const { seq } = await st.enqueue("after-1");
    await st.enqueue("after-2");
    expect(seq).toBe(3);
    await drained(c);
    const after = await c.producerId("gap");
    expect(after).not.toBe(before);
    const log = server.station("gap").log;
    expect(log.map((m) => [m.producer, m.seq, m.body])).toEqual([
      [after, 1, "after-1"],
      [after, 2, "after-2"],
    ]);
    // First sent as the old producer's seq 3 (refused with seq_gap, expectedSeq 1), then as the new producer's 1.
    const sent = server.requests.filter((r) => r.station === "gap").map((r) => [r.producer, r.seqs[0]]);
    expect(sent).toContainEqual([before, 3]);
    expect(sent).toContainEqual([after, 1]);
  });

  it("asks getToken again once on 401 and sends with the fresh token", async () => {
    let calls = 0;
    const c = client({ getToken: async () => (++calls === 1 ? "stale" : TOKEN) });
    await c.station("auth").enqueue("x");
    await drained(c);
    expect(calls).toBe(2);
    expect(server.requests.map((r) => r.token)).toEqual(["Bearer stale", `Bearer ${TOKEN}`]);
    expect(server.station("auth").log).toHaveLength(1);
  });

  it("keeps actions queued (not dead-lettered) while the token is refused", async () => {
    server.state.accepts = () => false;
    const c = client();
    await c.station("no-auth").enqueue("x");
    await waitFor(() => c.status.state === "error" && c.status.error?.code === "unauthorized", "the unauthorized status");
    expect(await c.deadLetters()).toEqual([]);
    expect((await c.pending()).map((p) => p.body)).toEqual(["x"]);
    server.state.accepts = () => true;
    await c.flush();
    await drained(c);
    expect(server.station("no-auth").log).toHaveLength(1);
  });

  it("moves an action the station refused (its ruling, in a 200) to the local dead letters and goes on with the rest", async () => {
    server.station("refusals").config.schema = (body) => ((body as { bad?: boolean }).bad ? "bad body" : null);
    const c = client();
    const events = record(c);
    const st = c.station("refusals");
    await st.enqueue({ n: 1 });
    await st.enqueue({ n: 2, bad: true });
    await st.enqueue({ n: 3 });
    await drained(c);
    // The refused seq is consumed: nothing is renumbered, the next action keeps its seq.
    expect(server.station("refusals").log.map((m) => [m.seq, m.body])).toEqual([
      [1, { n: 1 }],
      [3, { n: 3 }],
    ]);
    expect(events.rejected.map((e) => [e.seq, e.code])).toEqual([[2, "schema_violation"]]);
    expect(events.acked.map((e) => e.seq)).toEqual([1, 3]);
    const dead = await st.deadLetters();
    expect(dead.map((d) => [d.seq, d.body, d.error.code, d.error.status])).toEqual([[2, { n: 2, bad: true }, "schema_violation", 422]]);
    await waitFor(() => c.status.deadLetters === 1, "the status to count the dead letter");

    // Retried once the station accepts it: a new action with a new seq at the end, delivered once.
    server.station("refusals").config.schema = undefined;
    const retried = await c.retryDeadLetter(dead[0]!.deadLetterId);
    expect(retried).toEqual({ station: "refusals", seq: 4, partition: 0 });
    await drained(c);
    expect(server.station("refusals").log.map((m) => [m.seq, m.body])).toEqual([
      [1, { n: 1 }],
      [3, { n: 3 }],
      [4, { n: 2, bad: true }],
    ]);
    expect(await c.deadLetters()).toEqual([]);
    await waitFor(() => c.status.deadLetters === 0, "the status to count no dead letter");
  });

  it("keeps a batch the station cannot take (404 station_not_found) pending and blocked, until the app discards it", async () => {
    server.state.refuse = (station) => (station === "missing" ? json(404, error("station_not_found", "no such station")) : undefined);
    const c = client();
    const events = record(c);
    const st = c.station("missing");
    await Promise.all([st.enqueue(1), st.enqueue(2), st.enqueue(3)]);
    await waitFor(() => (c.status.blocked ?? []).some((b) => b.station === "missing" && b.attempts >= 2), "the stream to show as blocked");
    expect(await c.deadLetters()).toEqual([]);
    expect(events.rejected).toEqual([]);
    expect((await c.pending()).map((p) => p.body)).toEqual([1, 2, 3]);
    const [blocked] = await c.blockedStreams();
    expect(blocked).toMatchObject({ station: "missing", pending: 3, error: { code: "station_not_found", status: 404 } });
    expect(c.status.error?.code).toBe("station_not_found");

    const discarded = await c.discardStream("missing");
    expect(discarded.map((p) => [p.seq, p.body])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    expect(await c.pending()).toEqual([]);
    await waitFor(() => c.status.pending === 0 && !c.status.blocked, "the stream to leave the blocked list");
    expect(await c.deadLetters()).toEqual([]);
  });

  it("keeps one batch in flight per station, bounded by count and bytes", async () => {
    server.state.delayMs = 5;
    const c = client({ maxBatchMessages: 10, maxBatchBytes: 2000 });
    const st = c.station("bounded");
    for (let i = 0; i < 25; i++) await st.enqueue({ i });
    await drained(c);
    expect(server.state.maxInFlight).toBe(1);
    expect(server.requests.every((r) => r.seqs.length <= 10)).toBe(true);
    expect(server.station("bounded").log.map((m) => (m.body as { i: number }).i)).toEqual([...Array(25).keys()]);

    const big = client({ maxBatchBytes: 1000 });
    const bytes = big.station("bounded-bytes");
    for (let i = 0; i < 6; i++) await bytes.enqueue({ pad: "x".repeat(300) });
    await drained(big);
    const sizes = server.requests.filter((r) => r.station === "bounded-bytes").map((r) => r.seqs.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3);
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(6);
  });
});
