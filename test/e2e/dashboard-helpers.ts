// Chromium around the operator dashboard for the end-to-end test: a page that records every
// request's host, console error and page error; waits on what the page shows (never a fixed
// sleep); screenshots under test/artifacts/; and a webhook receiver that always fails.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { ROOT, type RunningWorker, startWorker } from "./wrangler-dev";

export const ARTIFACTS = join(ROOT, "test", "artifacts");
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 390, height: 844 };

/**
 * `wrangler dev` serving its own build of the assets: the project's config with the build step
 * left out and the assets read from a private directory, so another engineer's edit (which
 * rebuilds dist/public under every running `wrangler dev`) cannot pull the page away mid-test.
 */
export async function startDashboardWorker(): Promise<RunningWorker & { cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "waystation-dashboard-"));
  const publicDir = join(dir, "public");
  execFileSync(process.execPath, [join(ROOT, "client", "build.mjs")], { env: { ...process.env, WAYSTATION_PUBLIC_DIR: publicDir }, stdio: "inherit" });
  const config = readFileSync(join(ROOT, "wrangler.toml"), "utf8")
    .replace(/^main = "([^"]+)"/m, (_, main: string) => `main = ${JSON.stringify(join(ROOT, main))}`)
    // Module aliases (`[alias]`) are paths relative to the config: they stay the project's.
    .replace(/^("[^"]+") = "(\.\/[^"]+)"/gm, (_, name: string, path: string) => `${name} = ${JSON.stringify(join(ROOT, path))}`)
    .replace(/^directory = "[^"]+"/m, `directory = ${JSON.stringify(publicDir)}`)
    .replace(/^\[build\][\s\S]*?(?=^\[)/m, "");
  if (config.includes("[build]") || !config.includes(publicDir)) throw new Error("wrangler.toml changed shape: update startDashboardWorker");
  writeFileSync(join(dir, "wrangler.toml"), config);
  const worker = await startWorker({ config: join(dir, "wrangler.toml") });
  return { ...worker, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Chromium is chosen in one place (system, else the npm one); the dashboard test gets it here. */
export { launchChromium } from "../browser-launch.mjs";

export interface WatchedPage {
  page: Page;
  /** Every URL the page asked for. */
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
  /** Refusals the test provokes on purpose (e.g. a wrong token's 401), not counted as errors. */
  expectFailure(status: number): void;
}

export async function openWatchedPage(browser: Browser, viewport: { width: number; height: number }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const watched: WatchedPage = {
    page,
    requests: [],
    consoleErrors: [],
    pageErrors: [],
    expectFailure: (status) => expected.push(status),
  };
  const expected: number[] = [];
  page.on("request", (request) => watched.requests.push(request.url()));
  page.on("pageerror", (error) => watched.pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    const status = /status of (\d{3})/.exec(message.text())?.[1];
    const index = status ? expected.indexOf(Number(status)) : -1;
    if (index >= 0) expected.splice(index, 1);
    else watched.consoleErrors.push(message.text());
  });
  return watched;
}

export async function signIn(page: Page, baseUrl: string, token: string): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/`);
  await page.fill("#token", token);
  await page.click("form.signin-card button[type=submit]");
  await page.locator(".topbar").waitFor();
}

/** Waits until `locator`'s text (trimmed) satisfies `test`; fails with what it last saw. */
export async function waitForText(locator: Locator, test: string | RegExp | ((text: string) => boolean), timeoutMs = 20_000): Promise<string> {
  const matches = typeof test === "string" ? (t: string) => t === test : test instanceof RegExp ? (t: string) => test.test(t) : test;
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    try {
      last = ((await locator.first().textContent({ timeout: 1000 })) ?? "").trim();
      if (matches(last)) return last;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${locator} to match ${String(test)}; last text: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls `check` until it is truthy. */
export async function until<T>(check: () => Promise<T> | T, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const width = page.viewportSize()?.width ?? 0;
  const path = join(ARTIFACTS, `dashboard-${name}-${width}.png`);
  // Toasts fade out; wait so the picture shows the page, not a passing note.
  await page.locator("#toast.show").waitFor({ state: "detached", timeout: 6000 });
  // A full-page picture of a scrolled page draws the sticky top bar mid-page: start at the top.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** An HTTP receiver on 127.0.0.1 that answers every delivery with 500. */
export async function startFailingReceiver(): Promise<{ url: string; hits: number; close(): Promise<void> }> {
  const state = { hits: 0 };
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      state.hits++;
      response.writeHead(500, { "content-type": "text/plain" }).end("receiver is down");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    get hits() {
      return state.hits;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
