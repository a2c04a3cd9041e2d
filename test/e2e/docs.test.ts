// End to end in Chromium against wrangler dev: two pages share a doc station through
// client.doc(); live edits and awareness cross over the WebSocket; both edit offline, one
// reloads while offline and still shows its edits, and once online both converge; an edit the
// station refuses (too large) shows on status.error without blocking the later edits, and its
// content comes through in pieces; an edit of 2 MB is split and arrives whole; a document with
// 10,000 updates of history opens with one catch-up request.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as Y from "yjs";
import { launchChromium, openSdkPage, SDK_PAGE, serveSdkPage, startClient, waitUntil } from "./sdk-browser";
import { apiClient, ROOT, type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

const STATION = "e2e-notes";

/** The page's doc module (`window.wsdoc`), served from memory so it loads offline too. */
async function serveDocModule(context: BrowserContext, worker: RunningWorker): Promise<void> {
  const bundle = readFileSync(join(ROOT, "dist", "public", "waystation-doc.js"), "utf8");
  await context.route(`${worker.url}/waystation-doc.js`, (route) => route.fulfill({ contentType: "text/javascript", body: bundle }));
}

/** Client and doc in the page: `window.ws`, `window.doc`; resolves once the local copy loaded. */
async function openDoc(page: Page, worker: RunningWorker, station = STATION): Promise<void> {
  await page.addScriptTag({ type: "module", content: `import * as wsdoc from "/waystation-doc.js"; window.wsdoc = wsdoc;` });
  await page.waitForFunction(() => (window as any).wsdoc);
  await startClient(page, worker.token, { backoffBaseMs: 200, backoffMaxMs: 1000 });
  await page.evaluate(async (station) => {
    const w = window as any;
    w.doc = w.ws.doc(station, { pollIntervalMs: 500 });
    await w.doc.whenLoaded;
  }, station);
}

const textOf = (page: Page) => page.evaluate(() => (window as any).doc.getText("body").toString() as string);
const connectionOf = (page: Page) => page.evaluate(() => (window as any).doc.status.connection as string);

describe("collaborative docs in Chromium", () => {
  let worker: RunningWorker;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
    const created = await apiClient(worker)("PUT", `/v1/stations/${STATION}`, { kind: "doc", doc: { compactAfterUpdates: 20 } });
    expect(created.status).toBe(201);
  }, 300_000); // wrangler dev builds the bundles first; slow on a busy machine
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  async function newPage(station = STATION): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    contexts.push(context);
    await serveSdkPage(context, worker);
    await serveDocModule(context, worker);
    const page = await openSdkPage(context, worker, { fromWorker: true });
    await openDoc(page, worker, station);
    return { context, page };
  }

  it("two pages edit offline, one reloads offline and keeps its edits, and both converge online", async () => {
    const a = await newPage();
    const b = await newPage();
    await waitUntil(async () => (await connectionOf(a.page)) === "websocket" && (await connectionOf(b.page)) === "websocket", "both sockets");

    // Live: an edit in A shows in B over the socket, and so does A's presence.
    await a.page.evaluate(() => {
      const doc = (window as any).doc;
      doc.getText("body").insert(0, "hello");
      doc.awareness.setLocalStateField("user", { name: "ada" });
    });
    await waitUntil(async () => (await textOf(b.page)) === "hello", "B to see A's edit", 20_000);
    await waitUntil(
      async () => b.page.evaluate(() => [...(window as any).doc.awareness.getStates().values()].some((s: any) => s?.user?.name === "ada")),
      "B to see A's presence",
      20_000,
    );

    // Offline: each edits its own end of the text.
    await Promise.all([a.context.setOffline(true), b.context.setOffline(true)]);
    await a.page.evaluate(async () => {
      const doc = (window as any).doc;
      const text = doc.getText("body");
      for (const word of ["] ", "offline", "[A "]) text.insert(0, word);
      await doc.whenSaved();
    });
    await b.page.evaluate(async () => {
      const doc = (window as any).doc;
      const text = doc.getText("body");
      for (const word of [" [B", " offline]"]) text.insert(text.length, word);
      await doc.whenSaved();
    });
    expect(await textOf(a.page)).toBe("[A offline] hello");
    expect(await textOf(b.page)).toBe("hello [B offline]");

    // A reloads while offline (its page and bundles come from memory): its edits are there.
    await a.page.goto(`${worker.url}${SDK_PAGE}`);
    await a.page.waitForFunction(() => (window as any).sdk);
    await openDoc(a.page, worker);
    expect(await textOf(a.page)).toBe("[A offline] hello");
    expect(await a.page.evaluate(() => (window as any).doc.status.unacknowledged)).toBeGreaterThan(0);

    // Online again: both converge, and each sees its edits acknowledged.
    await Promise.all([a.context.setOffline(false), b.context.setOffline(false)]);
    await Promise.all([a.page, b.page].map((page) => page.evaluate(() => (window as any).doc.reconnect())));
    await waitUntil(async () => {
      const [ta, tb] = await Promise.all([textOf(a.page), textOf(b.page)]);
      return ta === tb && ta.includes("[A offline]") && ta.includes("[B offline]");
    }, "both pages to converge", 60_000);
    const acked = await Promise.all([a.page, b.page].map((page) => page.evaluate(() => (window as any).doc.whenAcknowledged())));
    for (const { offset } of acked) expect(offset).toBeGreaterThan(0);
    expect(await textOf(a.page)).toBe("[A offline] hello [B offline]");

    // The station holds the same document.
    const state = await apiClient(worker)("GET", `/v1/stations/${STATION}/doc`);
    expect(state.status).toBe(200);
    const serverText = await a.page.evaluate((update) => {
      const { Y } = (window as any).wsdoc;
      const doc = new Y.Doc();
      Y.applyUpdate(doc, Uint8Array.from(atob(update), (c) => c.charCodeAt(0)));
      return doc.getText("body").toString();
    }, state.body.update.$binary as string);
    expect(serverText).toBe("[A offline] hello [B offline]");
    for (const context of contexts) await context.close();
  }, 300_000);

  it("shows an edit the station refuses (too large) on status.error, and the other page still gets every accepted edit and then the refused content", async () => {
    const station = "e2e-refused";
    const maxMessageBytes = 8192;
    const api = apiClient(worker);
    expect((await api("PUT", `/v1/stations/${station}`, { kind: "doc", maxMessageBytes })).status).toBe(201);
    const a = await newPage(station);
    const b = await newPage(station);
    await waitUntil(async () => (await connectionOf(a.page)) === "websocket" && (await connectionOf(b.page)) === "websocket", "both sockets");
    await a.page.evaluate(() => (window as any).doc.getText("body").insert(0, "start"));
    await waitUntil(async () => (await textOf(b.page)) === "start", "B to see A's first edit", 20_000);

    // One edit of 30,000 characters: over the station's 8 KiB, so the station refuses it.
    await a.page.evaluate(() => {
      const w = window as any;
      w.doc.getText("body").insert(5, ` ${"x".repeat(30_000)} `);
      w.bigAcked = "pending";
      w.doc.whenAcknowledged().then(
        () => (w.bigAcked = "resolved"),
        () => (w.bigAcked = "rejected"),
      );
    });
    await waitUntil(async () => (await a.page.evaluate(() => (window as any).doc.status.error?.code)) === "message_too_large", "the refusal on A's status.error", 30_000);
    // Asked after the refusal, it still covers the refused edit.
    await a.page.evaluate(() => {
      const w = window as any;
      w.bigAckedLater = "pending";
      w.doc.whenAcknowledged().then(
        () => (w.bigAckedLater = "resolved"),
        () => (w.bigAckedLater = "rejected"),
      );
    });

    // Normal edits after it: each reaches B (they no longer wait behind the refused one).
    for (const word of ["one", "two", "three"]) {
      await a.page.evaluate(async (word) => {
        const doc = (window as any).doc;
        doc.getText("body").insert(0, `${word} `);
        await doc.whenSaved();
      }, word);
      await waitUntil(async () => (await textOf(b.page)).startsWith(`${word} `), `B to see "${word}"`, 30_000);
    }
    // The refused content came again in pieces the station takes: both pages are the same.
    await waitUntil(async () => (await textOf(a.page)) === (await textOf(b.page)), "both pages to converge", 60_000);
    expect(await textOf(b.page)).toBe(`three two one start ${"x".repeat(30_000)} `);
    expect(await a.page.evaluate(() => [(window as any).bigAcked, (window as any).bigAckedLater])).toEqual(["pending", "pending"]);
    const error = await a.page.evaluate(() => (window as any).doc.status.error);
    expect(error).toMatchObject({ code: "message_too_large" });
    expect(typeof error.seq).toBe("number"); // the refused action's seq

    // The station's log: every message fits, and its document is the pages' one.
    const read = await api("GET", `/v1/stations/${station}/messages?from=1&limit=1000`);
    expect(read.status).toBe(200);
    for (const message of read.body.messages) expect(JSON.stringify(message.body).length).toBeLessThanOrEqual(maxMessageBytes);
    const state = await api("GET", `/v1/stations/${station}/doc`);
    const serverText = await a.page.evaluate((update) => {
      const { Y } = (window as any).wsdoc;
      const doc = new Y.Doc();
      Y.applyUpdate(doc, Uint8Array.from(atob(update), (c) => c.charCodeAt(0)));
      return doc.getText("body").toString();
    }, state.body.update.$binary as string);
    expect(serverText).toBe(await textOf(a.page));

    // Once the station holds the refused content again, a later edit is acknowledged as usual.
    await waitUntil(async () => (await a.page.evaluate(() => (window as any).doc.status.unacknowledged)) === 0, "A's repair to be acknowledged", 30_000);
    const later = await a.page.evaluate(async () => {
      const doc = (window as any).doc;
      doc.getText("body").insert(0, "four ");
      return doc.whenAcknowledged();
    });
    expect(later.offset).toBeGreaterThan(0);
    await Promise.all([a.context.close(), b.context.close()]);
  }, 300_000);

  it("splits an edit of 2 MB into messages the station takes: acknowledged, and the other page gets all of it", async () => {
    const station = "e2e-huge-edit";
    const api = apiClient(worker);
    expect((await api("PUT", `/v1/stations/${station}`, { kind: "doc" })).status).toBe(201);
    const a = await newPage(station);
    const b = await newPage(station);
    const acked = await a.page.evaluate(async () => {
      const doc = (window as any).doc;
      doc.getText("body").insert(0, "abcdefghij".repeat(200_000));
      doc.getText("body").insert(0, "then a keystroke ");
      return doc.whenAcknowledged();
    });
    expect(acked.offset).toBeGreaterThan(1);
    await waitUntil(async () => (await b.page.evaluate(() => (window as any).doc.getText("body").length)) === 2_000_017, "B to get the whole edit", 120_000);
    expect(await textOf(b.page)).toBe(await textOf(a.page));
    expect(await a.page.evaluate(() => (window as any).doc.status.error)).toBeUndefined();
    await Promise.all([a.context.close(), b.context.close()]);
  }, 300_000);

  it("opens a document with a long history in one catch-up request", async () => {
    const station = "e2e-long-history";
    const api = apiClient(worker);
    expect((await api("PUT", `/v1/stations/${station}`, { kind: "doc" })).status).toBe(201);
    const source = new Y.Doc();
    const updates: Uint8Array[] = [];
    source.on("update", (update: Uint8Array) => updates.push(update));
    const text = source.getText("body");
    for (let i = 0; i < 10_000; i++) text.insert(text.length, i % 50 === 49 ? "\n" : "ab"[i % 2]!);
    for (let i = 0; i < updates.length; i += 1000) {
      const messages = updates.slice(i, i + 1000).map((u, j) => ({ seq: i + j + 1, body: { $binary: Buffer.from(u).toString("base64") } }));
      expect((await api("POST", `/v1/stations/${station}/messages`, { producer: "seed", messages })).status).toBe(200);
    }

    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    await serveDocModule(context, worker);
    const page = await openSdkPage(context, worker, { fromWorker: true });
    const docRequests: string[] = [];
    page.on("request", (r) => r.url().endsWith(`/v1/stations/${station}/doc`) && docRequests.push(r.method()));
    await page.addScriptTag({ type: "module", content: `import * as wsdoc from "/waystation-doc.js"; window.wsdoc = wsdoc;` });
    await page.waitForFunction(() => (window as any).wsdoc);
    await startClient(page, worker.token);
    const opened = await page.evaluate(async (station) => {
      const doc = (window as any).ws.doc(station);
      await doc.whenSynced;
      return { text: doc.getText("body").toString() as string, offset: doc.status.serverOffset as number };
    }, station);
    expect(opened).toEqual({ text: text.toString(), offset: 10_000 });
    expect(docRequests).toEqual(["POST"]);
    await context.close();
  }, 300_000);
});
