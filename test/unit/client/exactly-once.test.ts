// Regression tests of issue 13, items 1–4: only the station's rulings settle an action. A lost
// answer followed by an answer that is not a ruling (a token refused at the edge, a whole-batch
// 413, a proxy's page) leaves the actions pending; two URLs of one worker and two tabs without Web
// Locks never share or renumber a (producer, seq); seq_conflict moves to a new producer.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AckedEvent, Client, RejectedEvent, Status } from "../../../client/index";
import { error, foreign } from "./fake-station";
import { ALIAS_URL, makeClient, startStationServer, TOKEN, waitFor } from "./helpers";

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

async function drained(c: Client, timeoutMs = 5000) {
  await waitFor(async () => (await c.pending()).length === 0, "the outbox to drain", timeoutMs);
}

const bodies = (station: string) => server.station(station).log.map((m) => m.body);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.faults.length = 0;
  server.requests.length = 0;
  server.state.accepts = (token) => token === `Bearer ${TOKEN}`;
  server.state.refuse = () => undefined;
  server.state.delayMs = 0;
});
afterAll(() => server.close());

describe("a lost answer, then an answer that is not a ruling (issue 13, item 1)", () => {
  it("keeps actions the station stored when the resend meets a 403, and stores later actions once", async () => {
    const c = client();
    const events = record(c);
    server.faults.push(
      { kind: "lose-response" },
      { kind: "status", status: 403, body: error("forbidden", "This token may not produce on station grant") },
      { kind: "status", status: 403, body: error("forbidden", "This token may not produce on station grant") },
    );
    const st = c.station("grant");
    await st.enqueue("a");
    await st.enqueue("b");
    await waitFor(() => events.statuses.some((s) => s.error?.code === "forbidden"), "the 403 on status.error");
    await st.enqueue("c");
    await drained(c);
    expect(bodies("grant")).toEqual(["a", "b", "c"]);
    expect(await c.deadLetters()).toEqual([]);
    expect(events.rejected).toEqual([]);
    expect(events.acked.map((e) => [e.seq, e.duplicate])).toEqual([
      [1, true],
      [2, true],
      [3, false],
    ]);
  });

  it("keeps them through a whole-batch 413 and a lowered maxMessageBytes: the resend is ruled as before, new large actions are refused", async () => {
    const c = client();
    const events = record(c);
    const big = { pad: "x".repeat(500) };
    server.faults.push({ kind: "lose-response" }, { kind: "status", status: 413, body: error("message_too_large", "Message 0 is larger than 100 bytes") });
    const st = c.station("shrunk");
    await st.enqueue(big);
    await st.enqueue("b");
    await waitFor(() => server.station("shrunk").log.length === 2, "the first batch stored (answer lost)");
    server.station("shrunk").config.maxMessageBytes = 100;
    await st.enqueue(big); // seq 3: too large now
    await st.enqueue("d");
    await drained(c);
    expect(bodies("shrunk")).toEqual([big, "b", "d"]);
    expect(events.acked.map((e) => [e.seq, e.duplicate])).toEqual([
      [1, true],
      [2, true],
      [4, false],
    ]);
    const dead = await c.deadLetters();
    expect(dead.map((d) => [d.seq, d.error.code])).toEqual([[3, "message_too_large"]]);
    expect(events.rejected.map((e) => [e.seq, e.code, e.deadLetterId])).toEqual([[3, "message_too_large", dead[0]!.deadLetterId]]);
  });

  it("keeps them when a proxy answers 400 and 404 pages to the resend", async () => {
    const c = client();
    const events = record(c);
    server.faults.push({ kind: "lose-response" }, { kind: "foreign", status: 400 }, { kind: "foreign", status: 404 });
    const st = c.station("proxied");
    await st.enqueue("a");
    await st.enqueue("b");
    await waitFor(() => events.statuses.some((s) => s.error?.code === "bad_response" && s.error.status === 404), "the proxy's 404 on status.error");
    await st.enqueue("c");
    await drained(c);
    expect(bodies("proxied")).toEqual(["a", "b", "c"]);
    expect(await c.deadLetters()).toEqual([]);
    expect(events.acked.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});

describe("a proxy's body limit", () => {
  it("sends smaller batches after a 413 page until they pass, in order, with nothing dead-lettered", async () => {
    // An nginx-like proxy in front of the worker: bodies over 6 KB get its 413 page.
    server.state.refuse = (station, body) => (station === "proxy-limit" && JSON.stringify(body).length > 6_000 ? foreign(413) : undefined);
    const c = client();
    const st = c.station("proxy-limit");
    await Promise.all(Array.from({ length: 20 }, (_, i) => st.enqueue({ i, pad: "x".repeat(1000) })));
    await drained(c);
    expect(bodies("proxy-limit").map((b) => (b as { i: number }).i)).toEqual([...Array(20).keys()]);
    expect(await c.deadLetters()).toEqual([]);
  });
});

describe("one producer, two seq counters (issue 13, item 2)", () => {
  it("gives each URL of one worker its own producer, so neither's actions are taken for the other's duplicates", async () => {
    const direct = client({ dbName: "two-urls" });
    const alias = client({ dbName: "two-urls", url: ALIAS_URL });
    await direct.station("aliased").enqueue("direct-1");
    await alias.station("aliased").enqueue("alias-1");
    await direct.station("aliased").enqueue("direct-2");
    await alias.station("aliased").enqueue("alias-2");
    await drained(direct);
    await drained(alias);
    const log = server.station("aliased").log;
    expect(log.map((m) => m.body).sort()).toEqual(["alias-1", "alias-2", "direct-1", "direct-2"]);
    const [p1, p2] = [await direct.producerId("aliased"), await alias.producerId("aliased")];
    expect(p1).not.toBe(p2);
    expect(log.filter((m) => m.producer === p1).map((m) => [m.seq, m.body])).toEqual([
      [1, "direct-1"],
      [2, "direct-2"],
    ]);
    expect(log.filter((m) => m.producer === p2).map((m) => [m.seq, m.body])).toEqual([
      [1, "alias-1"],
      [2, "alias-2"],
    ]);
  });
});

describe("several tabs without Web Locks (issue 13, item 3)", () => {
  it("stores each action once and in order, and dead-letters only what the station refused, once", async () => {
    server.station("no-locks").config.schema = (body) => ((body as { bad?: boolean }).bad ? "bad" : null);
    server.state.delayMs = 3;
    const a = client({ dbName: "no-locks", locks: null });
    const b = client({ dbName: "no-locks", locks: null });
    const events = [record(a), record(b)];
    server.faults.push(
      { kind: "lose-response" },
      { kind: "foreign", status: 502 },
      { kind: "lose-response" },
      { kind: "status", status: 403, body: error("forbidden", "grant lost") },
      { kind: "foreign", status: 404 },
      { kind: "lose-response" },
    );
    const enqueued: { seq: number; body: { tab: string; i: number; bad?: boolean } }[] = [];
    for (let i = 0; i < 20; i++) {
      const tab = i % 2 === 0 ? a : b;
      const body = { tab: tab === a ? "a" : "b", i, ...(i % 7 === 3 ? { bad: true } : {}) };
      enqueued.push({ seq: (await tab.station("no-locks").enqueue(body)).seq, body });
      if (i % 5 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await drained(a, 10_000);
    const good = enqueued.filter((e) => !e.body.bad);
    const refused = enqueued.filter((e) => e.body.bad);
    const log = server.station("no-locks").log;
    expect(log.map((m) => m.body)).toEqual(good.map((e) => e.body));
    expect(log.map((m) => m.seq)).toEqual([...log.map((m) => m.seq)].sort((x, y) => x! - y!));
    const dead = await a.deadLetters();
    expect(dead.map((d) => [d.seq, d.body])).toEqual(refused.map((e) => [e.seq, e.body]));
    // Each tab reports what it settled itself: together, each action once.
    const acked = events.flatMap((e) => e.acked.map((x) => x.seq)).sort((x, y) => x - y);
    expect(acked).toEqual(good.map((e) => e.seq));
    expect(events.flatMap((e) => e.rejected.map((x) => x.seq)).sort((x, y) => x - y)).toEqual(refused.map((e) => e.seq));
  });
});

describe("a proxy's error page is not the station's ruling (issue 13, item 4)", () => {
  it("leaves the actions pending in order behind an HTML 404, says why, and delivers them in order after", async () => {
    const c = client();
    server.faults.push({ kind: "foreign", status: 404 }, { kind: "foreign", status: 404 }, { kind: "foreign", status: 404 });
    const st = c.station("html-404");
    await st.enqueue(1);
    await st.enqueue(2);
    await waitFor(() => c.status.error?.code === "bad_response", "status.error to say the answer was not the station's");
    expect(c.status.error!.status).toBe(404);
    expect(c.status.blocked?.map((b) => b.station)).toEqual(["html-404"]);
    await st.enqueue(3);
    expect(await c.deadLetters()).toEqual([]);
    await drained(c);
    expect(bodies("html-404")).toEqual([1, 2, 3]);
    expect(await c.deadLetters()).toEqual([]);
    await waitFor(() => c.status.error === undefined && c.status.blocked === undefined, "the error to clear once the station ruled");
  });

  it("takes no 200 without the protocol header as a ruling (a proxy answering for the station)", async () => {
    const c = client();
    server.faults.push({ kind: "foreign", status: 200, body: JSON.stringify({ results: [{ seq: 1, partition: 0, offset: 1, duplicate: false }], partitions: 1 }), contentType: "application/json" });
    await c.station("fake-200").enqueue("x");
    await drained(c);
    expect(bodies("fake-200")).toEqual(["x"]);
    expect(server.requests.filter((r) => r.station === "fake-200")).toHaveLength(2);
  });
});

describe("another writer under our producer (seq_conflict)", () => {
  it("settles the seqs before the conflict as duplicates, then moves the rest to a new producer", async () => {
    server.faults.push({ kind: "network" }, { kind: "network" });
    const c = client({ backoffBaseMs: 200, backoffMaxMs: 200 });
    const events = record(c);
    const st = c.station("conflict");
    const producer = await c.producerId("conflict");
    // A restored backup of this outbox sent seq 2 under the same producer with another action,
    // after our seq 1 was stored (its answer lost).
    server.station("conflict").produce({
      producer,
      messages: [
        { seq: 1, body: "mine-1", id: "mine-1" },
        { seq: 2, body: "theirs-2", id: "theirs-2" },
      ],
    });
    await st.enqueue("mine-1", { id: "mine-1" });
    await st.enqueue("mine-2", { id: "mine-2" });
    await st.enqueue("mine-3");
    await c.flush();
    await drained(c);
    const moved = await c.producerId("conflict");
    expect(moved).not.toBe(producer);
    expect(server.station("conflict").log.map((m) => [m.producer, m.seq, m.body])).toEqual([
      [producer, 1, "mine-1"],
      [producer, 2, "theirs-2"],
      [moved, 1, "mine-2"],
      [moved, 2, "mine-3"],
    ]);
    expect(events.acked.map((e) => [e.seq, e.duplicate])).toEqual([
      [1, true],
      [2, false],
      [3, false],
    ]);
    expect(await c.deadLetters()).toEqual([]);
  });
});
