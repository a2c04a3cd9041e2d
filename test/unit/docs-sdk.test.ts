// client.doc() on fake-indexeddb against an in-memory doc station: offline edits merge into few
// messages, the doc opens offline after a restart, copies converge, acks are visible, and
// awareness follows the y-protocols rules. Poll mode (no WebSocket in these tests).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import "../../client/doc";
import { DocAwareness } from "../../client/docs/awareness";
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
  });

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
