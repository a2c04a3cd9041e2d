// client.doc() on fake-indexeddb against an in-memory doc station: offline edits merge into few
// messages, the doc opens offline after a restart, copies converge, acks are visible, refused
// and oversized edits neither lie nor block the copies, and awareness follows the y-protocols
// rules. Poll mode (no WebSocket in these tests).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import "../../client/doc";
import { DocAwareness } from "../../client/collab/awareness";
import { type Client, createClient } from "../../client/index";
import { DOC_TOKEN, DOC_URL, startDocServer, switchableFetch, textOfUpdate } from "./docs-fake-server";

let server: ReturnType<typeof startDocServer>;
beforeAll(() => {
  server = startDocServer();
});
afterAll(() => server.close());

let counter = 0;
function docClient(offline: () => boolean, dbName = `docs-unit-${process.pid}-${++counter}`): Client {
  return createClient({
    url: DOC_URL,
    token: DOC_TOKEN,
    dbName,
    locks: null,
    debounceMs: 1,
    backoffBaseMs: 5,
    backoffMaxMs: 40,
    fetch: switchableFetch(offline),
  });
}

const docOptions = { transport: "poll" as const, pollIntervalMs: 20 };

async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("client.doc()", () => {
  it("sends a thousand offline keystrokes as a couple of merged messages", async () => {
    let offline = true;
    const client = docClient(() => offline);
    const doc = client.doc("notes-1000", docOptions);
    await doc.whenLoaded;
    const text = doc.getText("t");
    for (let i = 0; i < 1000; i++) {
      text.insert(text.length, String.fromCharCode(97 + (i % 26)));
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 1)); // a typist, not one transaction
    }
    await doc.whenSaved();
    expect(doc.status.unacknowledged).toBeGreaterThan(0);
    offline = false;
    void client.flush();
    const acked = await doc.whenAcknowledged();
    const messages = server.produced.filter((p) => p.station === "notes-1000").reduce((n, p) => n + p.messages, 0);
    expect(messages).toBeLessThanOrEqual(3);
    expect(textOfUpdate(server.stateOf("notes-1000"))).toBe(text.toString());
    expect(acked.offset).toBe(server.station("notes-1000").log.length);
    await client.close();
  }, 20_000); // a thousand strict IndexedDB commits take seconds on a busy machine

  it("opens offline with its local edits after the page is gone", async () => {
    const dbName = `docs-unit-reload-${process.pid}`;
    const first = docClient(() => true, dbName);
    const before = first.doc("notes-reload", docOptions);
    await before.whenLoaded;
    before.getText("t").insert(0, "written offline");
    await before.whenSaved();
    await first.close();

    const second = docClient(() => true, dbName);
    const after = second.doc("notes-reload", docOptions);
    await after.whenLoaded;
    expect(after.getText("t").toString()).toBe("written offline");
    // Still not acknowledged: it waits in the outbox, and goes once online.
    expect(after.status.unacknowledged).toBeGreaterThan(0);
    await second.close();
  });

  it("converges two clients that edited offline, and tells each when its edits are acknowledged", async () => {
    let offline = true;
    const a = docClient(() => offline);
    const b = docClient(() => offline);
    const docA = a.doc("notes-pair", docOptions);
    const docB = b.doc("notes-pair", docOptions);
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    docA.getText("t").insert(0, "alpha ");
    docB.getText("t").insert(0, "beta ");
    docA.getMap("m").set("who", "a");
    docB.getMap("m").set("who", "b");
    offline = false;
    void a.flush();
    void b.flush();
    await Promise.all([docA.whenAcknowledged(), docB.whenAcknowledged()]);
    const total = server.station("notes-pair").log.length;
    await waitFor(() => docA.status.serverOffset === total && docB.status.serverOffset === total, "both caught up");
    expect(Y.encodeStateAsUpdate(docA)).toEqual(Y.encodeStateAsUpdate(docB));
    expect(docA.getText("t").toString()).toContain("alpha");
    expect(docA.getText("t").toString()).toContain("beta");
    expect(docA.status.acknowledgedOffset).not.toBeNull();
    await Promise.all([a.close(), b.close()]);
  });

  it("says why it cannot catch up: a station that is not a doc", async () => {
    const client = docClient(() => false);
    const doc = client.doc("log-notes", docOptions);
    await waitFor(() => doc.status.error?.code === "not_a_doc", "the not_a_doc error");
    expect(doc.status.connection).toBe("offline");
    await client.close();
  });

  it("returns the same doc for the same station until it is closed", async () => {
    const client = docClient(() => true);
    const doc = client.doc("notes-same", docOptions);
    expect(client.doc("notes-same")).toBe(doc);
    await doc.close();
    expect(client.doc("notes-same", docOptions)).not.toBe(doc);
    await client.close();
  });
});

/** Waits until both docs hold the same state and the station holds it too. */
async function converged(a: Y.Doc, b: Y.Doc, station: string): Promise<void> {
  await waitFor(() => {
    const state = Y.encodeStateVector(a);
    return equalBytes(state, Y.encodeStateVector(b)) && equalBytes(state, server.station(station).stateVector());
  }, "the copies and the station to converge", 20_000);
  // Compared by hand: toEqual walks a megabyte array element by element, slowly.
  expect(equalBytes(Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b))).toBe(true);
}

function equalBytes(x: Uint8Array, y: Uint8Array): boolean {
  return x.byteLength === y.byteLength && x.every((byte, i) => byte === y[i]);
}

/** "pending" if `promise` has not settled after `ms`. */
function settledWithin(promise: Promise<unknown>, ms: number): Promise<"resolved" | "rejected" | "pending"> {
  return Promise.race([
    promise.then(() => "resolved" as const, () => "rejected" as const),
    new Promise<"pending">((resolve) => setTimeout(() => resolve("pending"), ms)),
  ]);
}

describe("client.doc() and the station's refusals", () => {
  it("shows a refused edit on status.error, never resolves whenAcknowledged for it, and the later edits still reach the other copy", async () => {
    const name = "notes-refused";
    server.station(name).maxMessageBytes = 8 * 1024;
    const a = docClient(() => false);
    const b = docClient(() => false);
    const docA = a.doc(name, docOptions);
    const docB = b.doc(name, docOptions);
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    docA.getText("t").insert(0, "x".repeat(20_000)); // one edit, over the station's 8 KiB
    const acked = docA.whenAcknowledged();
    await waitFor(() => docA.status.error?.code === "message_too_large", "the refusal on status.error");
    expect(docA.status.error).toMatchObject({ code: "message_too_large", seq: 1 });
    const ackedAfterRefusal = docA.whenAcknowledged(); // still covers the refused edit
    docA.getText("t").insert(0, "after-1 ");
    await new Promise((r) => setTimeout(r, 50));
    docA.getText("t").insert(0, "after-2 ");
    await waitFor(() => docB.getText("t").toString().includes("after-1") && docB.getText("t").toString().includes("after-2"), "the later edits on B");
    // The refused content went again, in pieces the station takes: every copy is the same.
    await converged(docA, docB, name);
    expect(docB.getText("t").toString()).toBe(docA.getText("t").toString());
    expect(server.station(name).refused).toHaveLength(1);
    expect(Math.max(...server.station(name).log.map((m) => m.bodyBytes))).toBeLessThanOrEqual(8 * 1024);
    expect(await settledWithin(acked, 200)).toBe("pending");
    expect(await settledWithin(ackedAfterRefusal, 10)).toBe("pending");
    expect(docA.status.error).toMatchObject({ code: "message_too_large", seq: 1 }); // kept: the action itself never got in
    // Once the station holds the refused content again (unacknowledged back to 0), a later call resolves.
    await waitFor(() => docA.status.unacknowledged === 0, "the repair to be acknowledged");
    docA.getText("t").insert(0, "after-3 ");
    const later = await docA.whenAcknowledged();
    expect(later.offset).toBe(server.station(name).lastOffset);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);

  it("finds a limit the station does not state, by smaller pieces after each refusal, and converges", async () => {
    const name = "notes-unstated";
    server.station(name).maxMessageBytes = 8 * 1024;
    server.station(name).statesLimit = false;
    const a = docClient(() => false);
    const b = docClient(() => false);
    const docA = a.doc(name, docOptions);
    const docB = b.doc(name, docOptions);
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    docA.getText("t").insert(0, "y".repeat(60_000));
    docA.getText("t").insert(0, "after ");
    await converged(docA, docB, name);
    expect(docB.getText("t").toString()).toBe(`after ${"y".repeat(60_000)}`);
    expect(docA.status.error?.code).toBe("message_too_large");
    expect(Math.max(...server.station(name).log.map((m) => m.bodyBytes))).toBeLessThanOrEqual(8 * 1024);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);

  it("sends again what the station lost: the next catch-up finds it missing, and the other copy converges", async () => {
    const name = "notes-lost";
    const a = docClient(() => false);
    const b = docClient(() => false);
    const docA = a.doc(name, docOptions);
    const docB = b.doc(name, docOptions);
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    docA.getText("t").insert(0, "kept ");
    const { offset } = await docA.whenAcknowledged();
    server.station(name).forget(offset!); // acknowledged, then lost by the station
    docA.getText("t").insert(5, "and more");
    await docA.whenAcknowledged();
    // "and more" follows the lost edit in A's clock: B can only apply it once the loss is repaired.
    await waitFor(() => docB.getText("t").toString() === "kept and more", "B to get both edits");
    await converged(docA, docB, name);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);

  it("splits an edit over 1.4 MB into messages the station takes, and another copy gets all of it", async () => {
    const name = "notes-huge";
    const a = docClient(() => false);
    const b = docClient(() => false);
    // Slower polls: each catch-up of a 2 MB document costs the fake station a diff.
    const docA = a.doc(name, { ...docOptions, pollIntervalMs: 300 });
    const docB = b.doc(name, { ...docOptions, pollIntervalMs: 300 });
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    let text = "";
    for (let i = 0; i < 2_000_000; i++) text += i % 1000 === 999 ? "😀" : String.fromCharCode(97 + (i % 26));
    docA.getText("t").insert(0, text);
    docA.getText("t").insert(0, "then a keystroke ");
    await expect(settledWithin(docA.whenAcknowledged(), 20_000)).resolves.toBe("resolved");
    const log = server.station(name).log;
    expect(log.length).toBeGreaterThan(1);
    expect(Math.max(...log.map((m) => m.bodyBytes))).toBeLessThanOrEqual(1024 * 1024);
    expect(server.station(name).refused).toHaveLength(0);
    await converged(docA, docB, name);
    expect(docB.getText("t").toString()).toBe(`then a keystroke ${text}`);
    expect(docA.status.error).toBeUndefined();
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it("removes a single value no message can hold, says so on status.error, and the copies stay the same", async () => {
    const name = "notes-blob";
    server.station(name).maxMessageBytes = 8 * 1024;
    const a = docClient(() => false);
    const b = docClient(() => false);
    const docA = a.doc(name, docOptions);
    const docB = b.doc(name, docOptions);
    await Promise.all([docA.whenLoaded, docB.whenLoaded]);
    docA.getText("t").insert(0, "before ");
    docA.getMap("m").set("blob", new Uint8Array(20_000).fill(7)); // one value: no cut makes it smaller
    docA.getText("t").insert(7, "after");
    await waitFor(() => docB.getText("t").toString() === "before after", "the text on B");
    await converged(docA, docB, name);
    expect(docA.getMap("m").has("blob")).toBe(false);
    expect(docB.getMap("m").has("blob")).toBe(false);
    expect(docA.status.error?.code).toBe("message_too_large");
    expect(Math.max(...server.station(name).log.map((m) => m.bodyBytes))).toBeLessThanOrEqual(8 * 1024);
    await Promise.all([a.close(), b.close()]);
  }, 30_000);
});

describe("awareness", () => {
  it("keeps the newest clock per client, retires null states, and never takes our own from others", () => {
    const awareness = new DocAwareness(1);
    const changes: unknown[] = [];
    awareness.on("change", (change) => changes.push(change));
    awareness.setLocalStateField("user", "me");
    awareness.applyRemote([{ clientID: 2, clock: 3, state: { cursor: 1 } }]);
    awareness.applyRemote([{ clientID: 2, clock: 2, state: { cursor: 9 } }]); // older: ignored
    awareness.applyRemote([{ clientID: 1, clock: 99, state: { user: "impostor" } }]);
    expect(awareness.getStates()).toEqual(new Map<number, unknown>([[1, { user: "me" }], [2, { cursor: 1 }]]));
    awareness.applyRemote([{ clientID: 2, clock: 4, state: null }]);
    expect([...awareness.getStates().keys()]).toEqual([1]);
    expect(changes).toEqual([
      { added: [1], updated: [], removed: [] },
      { added: [2], updated: [], removed: [] },
      { added: [], updated: [], removed: [2] },
    ]);
    awareness.destroy();
  });
});
