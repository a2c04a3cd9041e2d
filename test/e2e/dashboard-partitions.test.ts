// The dashboard on a partitioned station, in real Chromium against `wrangler dev`: the overview
// lists each partition with its messages and share (the skew), and the message browser reads
// one partition at a time — with no console or page errors.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { partitionFor } from "../../shared/partitions";
import { DESKTOP, type WatchedPage, launchChromium, openWatchedPage, screenshot, signIn, startDashboardWorker, waitForText } from "./dashboard-helpers";
import { apiClient, removeStateDir } from "./wrangler-dev";

const STATION = "clicks";
const PARTITIONS = 4;

/** A key (`key-N`) that routes to `partition`. */
function keyIn(partition: number): string {
  for (let n = 0; ; n++) if (partitionFor(`key-${n}`, null, PARTITIONS) === partition) return `key-${n}`;
}

describe("dashboard of a partitioned station", () => {
  let worker: Awaited<ReturnType<typeof startDashboardWorker>>;
  let browser: Browser;
  let api: ReturnType<typeof apiClient>;
  let desk: WatchedPage;

  beforeAll(async () => {
    [worker, browser] = await Promise.all([startDashboardWorker(), launchChromium()]);
    api = apiClient(worker);
    desk = await openWatchedPage(browser, DESKTOP);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
    worker?.cleanup();
  });

  it("lists each partition with its messages and share, and browses one partition's messages", async () => {
    expect((await api("PUT", `/v1/stations/${STATION}`, { partitions: PARTITIONS })).status).toBe(201);
    // 2, 0, 1 and 5 messages into partitions 0..3: partition 3 holds well over its even share.
    const counts = [2, 0, 1, 5];
    const messages = counts.flatMap((count, partition) => Array.from({ length: count }, (_, i) => ({ key: keyIn(partition), body: { partition, i } })));
    expect((await api("POST", `/v1/stations/${STATION}/messages`, { messages })).status).toBe(200);

    const { page } = desk;
    await signIn(page, worker.url, worker.token);
    await page.goto(`${worker.url}/dashboard/#/s/${STATION}`);
    const rows = page.locator("#partitions tr[data-partition]");
    await waitForText(page.locator('#partitions tr[data-partition="3"]'), /62\.5%/);
    expect(await rows.count()).toBe(PARTITIONS);
    const shares = await page.locator("#partitions [data-share]").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-share"))));
    expect(shares).toEqual(counts.map((count) => count / 8));
    expect(await page.locator('#partitions tr[data-partition="3"] .badge').textContent()).toBe("62.5%");
    await screenshot(page, "partitions-overview");

    await page.click('#partitions tr[data-partition="3"] a');
    await page.locator("article.msg").first().waitFor();
    await waitForText(page.locator('.partition-picker [aria-current="true"]'), "3");
    const offsets = await page.locator("article.msg").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-offset"))));
    expect(offsets).toEqual([5, 4, 3, 2, 1]);
    await page.click('.partition-picker a[data-partition="0"]');
    await waitForText(page.locator('.partition-picker [aria-current="true"]'), "0");
    await page.waitForFunction(() => document.querySelectorAll("article.msg").length === 2);
    expect(desk.pageErrors).toEqual([]);
    expect(desk.consoleErrors).toEqual([]);
  });
});
