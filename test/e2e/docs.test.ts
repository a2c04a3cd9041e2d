// End to end in Chromium against wrangler dev: two pages share a doc station through
// client.doc(); live edits and awareness cross over the WebSocket; both edit offline, one
// reloads while offline and still shows its edits, and once online both converge; a document
// with 10,000 updates of history opens with one catch-up request.
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
async function openDoc(page: Page, worker: RunningWorker): Promise<void> {
  await page.addScriptTag({ type: "module", content: `import * as wsdoc from "/waystation-doc.js"; window.wsdoc = wsdoc;` });
  await page.waitForFunction(() => (window as any).wsdoc);
  await startClient(page, worker.token, { backoffBaseMs: 200, backoffMaxMs: 1000 });
  await page.evaluate(async (station) => {
    const w = window as any;
    w.doc = w.ws.doc(station, { pollIntervalMs: 500 });
    await w.doc.whenLoaded;
  }, STATION);
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

  async function newPage(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext();
    contexts.push(context);
    await serveSdkPage(context, worker);
    await serveDocModule(context, worker);
    const page = await openSdkPage(context, worker, { fromWorker: true });
    await openDoc(page, worker);
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
