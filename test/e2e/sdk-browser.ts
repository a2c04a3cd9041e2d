// Chromium around the SDK for the end-to-end tests: a blank page on the worker's own origin
// (served by a route, so it reloads while offline), the SDK bundle the worker serves, and
// helpers to drive a client inside the page and to read a station back over the API.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { launchChromium } from "../browser-launch.mjs";
import { apiClient, removeStateDir, ROOT, type RunningWorker, startWorker } from "./wrangler-dev";

export const SDK_PAGE = "/__sdk-e2e.html";

/** Chromium is chosen in one place (system, else the npm one); the tests get it from here. */
export { launchChromium };

/** Serves the test page and the SDK from memory, so pages load even when the network is cut. */
export async function serveSdkPage(context: BrowserContext, worker: RunningWorker): Promise<void> {
  const sdk = readFileSync(join(ROOT, "dist", "public", "waystation.js"), "utf8");
  await context.route(`${worker.url}${SDK_PAGE}`, (route) =>
    route.fulfill({
      contentType: "text/html",
      body: `<!doctype html><meta charset=utf-8><title>sdk e2e</title><script type=module>import * as sdk from "/waystation.js"; window.sdk = sdk;</script>`,
    }),
  );
  await context.route(`${worker.url}/waystation.js`, (route) => route.fulfill({ contentType: "text/javascript", body: sdk }));
  // The SDK's lazily loaded chunks (the JSON Schema validator), cached like any app file.
  await context.route(`${worker.url}/chunks/*`, (route) =>
    route.fulfill({ contentType: "text/javascript", body: readFileSync(join(ROOT, "dist", "public", new URL(route.request().url()).pathname)) }),
  );
}

/**
 * A page of the worker's origin with the SDK as `window.sdk`. By default the page comes from a
 * route (it reloads offline); `fromWorker` loads a real document from the worker instead, which
 * Chromium's local-network-access checks want before they allow a WebSocket to loopback.
 */
export async function openSdkPage(context: BrowserContext, worker: RunningWorker, options: { fromWorker?: boolean } = {}): Promise<Page> {
  const page = await context.newPage();
  if (options.fromWorker) {
    await page.goto(`${worker.url}/healthz`);
    await page.addScriptTag({ type: "module", content: `import * as sdk from "/waystation.js"; window.sdk = sdk;` });
  } else {
    await page.goto(`${worker.url}${SDK_PAGE}`);
  }
  await page.waitForFunction(() => (window as any).sdk);
  return page;
}

/** Creates `window.ws` = createClient({url: origin, token, ...options}) in the page. */
export async function startClient(page: Page, token: string, options: Record<string, unknown> = {}): Promise<void> {
  await page.waitForFunction(() => (window as any).sdk);
  await page.evaluate(
    ({ token, options }) => {
      (window as any).ws = (window as any).sdk.createClient({ url: location.origin, token, ...options });
    },
    { token, options },
  );
}

/** Enqueues `{i}` for i in [from, to) one after the other; returns the seqs. */
export function enqueueRange(page: Page, station: string, from: number, to: number): Promise<number[]> {
  return page.evaluate(
    async ({ station, from, to }) => {
      const st = (window as any).ws.station(station);
      const seqs: number[] = [];
      for (let i = from; i < to; i++) seqs.push((await st.enqueue({ i })).seq);
      return seqs;
    },
    { station, from, to },
  );
}

export function pendingCount(page: Page): Promise<number> {
  return page.evaluate(async () => (await (window as any).ws.pending()).length);
}

export interface StoredMessage {
  partition: number;
  offset: number;
  producer: string | null;
  seq: number | null;
  key: string | null;
  body: { i: number; tab?: string };
}

/** Every message of a station (of one partition, when given), in offset order. */
export async function readStation(worker: RunningWorker, station: string, partition?: number): Promise<StoredMessage[]> {
  const api = apiClient(worker);
  const all: StoredMessage[] = [];
  let from = 1;
  const inPartition = partition === undefined ? "" : `&partition=${partition}`;
  for (;;) {
    const { status, body } = await api("GET", `/v1/stations/${station}/messages?from=${from}&limit=1000${inPartition}`);
    if (status !== 200) throw new Error(`read ${station}: ${status} ${JSON.stringify(body)}`);
    all.push(...body.messages);
    if (body.messages.length === 0 || body.nextOffset === from) return all;
    from = body.nextOffset;
  }
}

export async function createStation(worker: RunningWorker, station: string, config: Record<string, unknown> = {}): Promise<void> {
  const { status, body } = await apiClient(worker)("PUT", `/v1/stations/${station}`, config);
  if (status !== 200 && status !== 201) throw new Error(`create ${station}: ${status} ${JSON.stringify(body)}`);
}

export async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a `wrangler dev` and Chromium before a suite's tests, hands both to `use`, and after the
 * tests closes the browser, stops the worker and drops its state directory.
 */
export function useWorkerAndBrowser(use: (worker: RunningWorker, browser: Browser) => void): void {
  let worker: RunningWorker | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
    use(worker, browser);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });
}
