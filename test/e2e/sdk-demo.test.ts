// The demo page at `/`, in Chromium against wrangler dev: token from the URL fragment, a todo
// added online and one added while "Simulate offline" is on, a reload in between, and the
// station ending with both actions once. The page makes no request off its own origin.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { describe, expect, it } from "vitest";
import { readStation, useWorkerAndBrowser, waitUntil } from "./sdk-browser";
import { ROOT, type RunningWorker } from "./wrangler-dev";

describe("demo page", () => {
  let worker: RunningWorker;
  let browser: Browser;
  useWorkerAndBrowser((w, b) => ([worker, browser] = [w, b]));

  it("keeps a todo added offline across a reload and syncs it once back online", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on("request", (req) => {
      if (!req.url().startsWith(worker.url)) foreign.push(req.url());
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));

    await page.goto(`${worker.url}/#token=${worker.token}`);
    await page.waitForSelector("#app:not([hidden])");
    expect(await page.isVisible("#token-form")).toBe(false);
    expect(page.url()).not.toContain("token"); // the fragment is taken and dropped

    await page.fill("#add-input", "milk");
    await page.click("#add-form button[type=submit]");
    await page.waitForSelector("#todos li .badge.acked");
    await waitUntil(async () => (await readStation(worker, "todos")).length === 1, "milk in the station");

    await page.check("#offline-toggle");
    await page.fill("#add-input", "eggs");
    await page.click("#add-form button[type=submit]");
    await page.waitForSelector("#todos li:nth-child(2) .badge.pending");
    await page.reload();
    await page.waitForSelector("#todos li:nth-child(2) .badge.pending");
    expect(await page.textContent("#todos")).toContain("eggs");
    expect(await readStation(worker, "todos")).toHaveLength(1);

    await page.uncheck("#offline-toggle");
    await waitUntil(async () => (await readStation(worker, "todos")).length === 2, "eggs in the station");
    await page.waitForSelector("#todos li:nth-child(2) .badge.acked");
    const rows = await page.$$eval("#actions tr.acked td:nth-child(3)", (cells) => cells.map((c) => c.textContent));
    expect(rows).toEqual(["2", "1"]);
    const stored = await readStation(worker, "todos");
    expect(stored.map((m) => (m.body as unknown as { text: string }).text)).toEqual(["milk", "eggs"]);

    mkdirSync(join(ROOT, "test", "artifacts"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test", "artifacts", "demo.png"), fullPage: true });
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
