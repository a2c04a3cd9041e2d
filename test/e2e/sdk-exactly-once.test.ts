// End to end in Chromium against wrangler dev: the faults under which an acknowledged action used
// to be lost or doubled. Each test commits a batch at the station and loses its answer, then meets
// something that is not a ruling (a token without the grant, a lowered maxMessageBytes, a proxy's
// error page, two URLs, tabs without locks, a clock set back, a browser without AbortSignal.timeout
// or Web Locks). After each: every acknowledged action is in the log once and in order, nothing
// the station holds is a local dead letter, and nothing stays stuck once the fault ends.
import type { Browser, BrowserContext, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, openSdkPage, pendingCount, readStation, serveSdkPage, type StoredMessage, waitUntil } from "./sdk-browser";
import { apiClient, removeStateDir, type RunningWorker, startWorker } from "./wrangler-dev";

const TOKEN_SIGNING_KEY = "e2e-exactly-once-signing-key-0123456789abcdef";
const PAD = "x".repeat(200);

describe("SDK exactly once under faults", () => {
  let worker: RunningWorker;
  let browser: Browser;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    [worker, browser] = await Promise.all([startWorker({ vars: { TOKEN_SIGNING_KEY } }), launchChromium()]);
    api = apiClient(worker);
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
  });

  async function createStation(name: string, config: Record<string, unknown> = {}): Promise<void> {
    const { status, body } = await api("PUT", `/v1/stations/${name}`, config);
    if (status !== 200 && status !== 201) throw new Error(`create ${name}: ${status} ${JSON.stringify(body)}`);
  }

  /** A page with `window.ws`: a client whose token comes from `window.token` on every call. */
  async function clientPage(context: BrowserContext, options: Record<string, unknown> = {}): Promise<Page> {
    const page = await openSdkPage(context, worker);
    await page.evaluate(
      ({ token, options }) => {
        const w = window as any;
        w.token = token;
        w.ws = w.sdk.createClient({ url: location.origin, getToken: () => w.token, backoffBaseMs: 100, backoffMaxMs: 1000, debounceMs: 5, ...options });
      },
      { token: worker.token, options },
    );
    return page;
  }

  async function newContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    await serveSdkPage(context, worker);
    return context;
  }

  /** Enqueues `{i, pad}` for i in [from, to) one after another. */
  function enqueue(page: Page, station: string, from: number, to: number, tab?: string): Promise<void> {
    return page.evaluate(
      async ({ station, from, to, pad, tab }) => {
        const st = (window as any).ws.station(station);
        for (let i = from; i < to; i++) await st.enqueue(tab === undefined ? { i, pad } : { i, pad, tab });
      },
      { station, from, to, pad: PAD, tab },
    );
  }

  const deadLetters = (page: Page) => page.evaluate(async () => (await (window as any).ws.deadLetters()).map((d: any) => ({ seq: d.seq, code: d.code ?? d.error?.code, body: d.body })));

  /** The first produce request commits at the station and its answer is lost; `then` runs in between. */
  function loseFirstAnswer(page: Page, station: string, then: () => Promise<void>): { lost: Promise<void> } {
    let first = true;
    let done!: () => void;
    const lost = new Promise<void>((resolve) => (done = resolve));
    void page.route(`**/v1/stations/${station}/messages`, async (route: Route) => {
      if (!first || route.request().method() !== "POST") return route.continue();
      first = false;
      const answer = await route.fetch(); // the station commits the batch…
      expect(answer.status()).toBe(200);
      await then();
      await route.abort("failed"); // …and the answer never reaches the page
      done();
    });
    return { lost };
  }

  function expectOnceInOrder(messages: StoredMessage[], count: number, tab?: string): void {
    const mine = tab === undefined ? messages : messages.filter((m) => m.body.tab === tab);
    expect(mine.map((m) => m.body.i)).toEqual(Array.from({ length: count }, (_, i) => i));
  }

  async function drained(page: Page, what: string): Promise<void> {
    await waitUntil(async () => (await pendingCount(page)) === 0, what, 60_000);
  }

  it("keeps actions whose answer was lost when the resend meets a token without the produce grant (403)", async () => {
    const station = "eo-forbidden";
    await createStation(station);
    const minted = await api("POST", "/v1/tokens", { sub: "reader", grants: [{ stations: [station], actions: ["consume"] }] });
    expect(minted.status).toBe(201);
    const readerToken = minted.body.token as string;
    const context = await newContext();
    const page = await clientPage(context);
    let forbidden = 0;
    page.on("response", (r) => r.url().endsWith(`/${station}/messages`) && r.status() === 403 && forbidden++);
    // While `restricted`, every produce request carries the reader's token, as if the app's
    // token lost its grant: the worker itself answers 403.
    let restricted = false;
    const { lost } = loseFirstAnswer(page, station, async () => {
      restricted = true;
    });
    await page.route(`**/v1/stations/${station}/messages`, (route) => {
      if (!restricted) return route.fallback();
      return route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${readerToken}` } });
    });

    await enqueue(page, station, 0, 10);
    await lost;
    // Resends now meet real 403s from the worker; meanwhile the app goes on enqueueing.
    await waitUntil(async () => forbidden >= 2, "two refusals at the edge");
    await enqueue(page, station, 10, 20);
    await waitUntil(async () => forbidden >= 4, "more refusals at the edge");
    expect(await deadLetters(page)).toEqual([]);
    expect(await pendingCount(page)).toBeGreaterThan(0);
    const status = await page.evaluate(() => (window as any).ws.status);
    expect(status.error?.code).toBe("forbidden");

    restricted = false;
    await drained(page, "the outbox to drain once the grant is back");
    expectOnceInOrder(await readStation(worker, station), 20);
    expect(await deadLetters(page)).toEqual([]);
    await context.close();
  });

  it("answers a resend with the original ruling after the operator lowered maxMessageBytes", async () => {
    const station = "eo-lowered-size";
    await createStation(station);
    const context = await newContext();
    const page = await clientPage(context);
    // All ten go out in one batch: queued offline, then sent when the network comes back.
    await context.setOffline(true);
    await enqueue(page, station, 0, 10);
    const { lost } = loseFirstAnswer(page, station, async () => {
      const lowered = await api("PUT", `/v1/stations/${station}`, { maxMessageBytes: 64 });
      expect(lowered.status).toBe(200);
    });
    await context.setOffline(false);
    await lost;
    await drained(page, "the resend to be answered as duplicates");
    expectOnceInOrder(await readStation(worker, station), 10);
    expect(await deadLetters(page)).toEqual([]);

    // A new action over the lowered limit is the station's refusal: a local dead letter, and the
    // actions after it still go through, in order.
    await enqueue(page, station, 10, 11);
    await page.evaluate((s) => (window as any).ws.station(s).enqueue({ small: true }), station);
    await drained(page, "the refused action and the next one to be ruled");
    const stored = await readStation(worker, station);
    expect(stored.map((m) => (m.body as any).small ?? m.body.i)).toEqual([...Array.from({ length: 10 }, (_, i) => i), true]);
    const dead = await deadLetters(page);
    expect(dead).toHaveLength(1);
    expect(dead[0].code).toBe("message_too_large");
    expect(stored.some((m) => m.seq === dead[0].seq)).toBe(false);
    await context.close();
  });

  it("treats a proxy's HTML error page as no answer: nothing dead-lettered, nothing reordered", async () => {
    const station = "eo-proxy-page";
    await createStation(station);
    const context = await newContext();
    const page = await clientPage(context);
    let proxied = 0;
    const { lost } = loseFirstAnswer(page, station, async () => {
      await page.route(`**/v1/stations/${station}/messages`, async (route) => {
        if (proxied >= 4) return route.fallback();
        proxied++;
        await route.fulfill({ status: 404, contentType: "text/html", body: "<html><body><h1>404 Not Found</h1>nginx</body></html>" });
      });
    });
    await enqueue(page, station, 0, 10);
    await lost;
    await enqueue(page, station, 10, 20);
    await drained(page, "the outbox to drain after the proxy recovers");
    expect(proxied).toBe(4);
    expectOnceInOrder(await readStation(worker, station), 20);
    expect(await deadLetters(page)).toEqual([]);
    await context.close();
  });

  it("keeps two URLs of one worker apart: actions of both are stored once each", async () => {
    const station = "eo-two-urls";
    await createStation(station);
    const context = await newContext();
    // A path prefix in front of the same worker, as a proxy or a second domain would give.
    await context.route("**/alias/v1/**", (route) => route.continue({ url: route.request().url().replace("/alias/v1/", "/v1/") }));
    const first = await clientPage(context);
    const { lost } = loseFirstAnswer(first, station, async () => {});
    await enqueue(first, station, 0, 10);
    await lost;
    await drained(first, "the first URL's actions");
    await first.evaluate(() => (window as any).ws.close());
    await first.close();

    const second = await openSdkPage(context, worker);
    await second.evaluate((token) => {
      const w = window as any;
      w.ws = w.sdk.createClient({ url: `${location.origin}/alias`, token, backoffBaseMs: 100, backoffMaxMs: 1000, debounceMs: 5 });
    }, worker.token);
    await enqueue(second, station, 10, 20);
    await drained(second, "the second URL's actions");
    expectOnceInOrder(await readStation(worker, station), 20);
    expect(await deadLetters(second)).toEqual([]);
    await context.close();
  });

  it("delivers two tabs without Web Locks exactly once when one commits unanswered and the other meets a proxy page", async () => {
    const station = "eo-no-locks";
    await createStation(station);
    const context = await newContext();
    const [a, b] = [await clientPage(context, { locks: null }), await clientPage(context, { locks: null })];
    // Both tabs sync the one outbox. Tab b's first batch commits at the station and its answer is
    // lost; only then does tab a's first request get an answer, from a proxy: an HTML 404.
    let committed = false;
    await b.route(`**/v1/stations/${station}/messages`, async (route) => {
      if (committed || route.request().method() !== "POST") return route.continue();
      await route.fetch();
      committed = true;
      await route.abort("failed");
    });
    let proxied = 0;
    await a.route(`**/v1/stations/${station}/messages`, async (route) => {
      if (proxied >= 2 || route.request().method() !== "POST") return route.continue();
      await waitUntil(async () => committed, "tab b's batch to commit");
      proxied++;
      await route.fulfill({ status: 404, contentType: "text/html", body: "<html><body>Not Found</body></html>" });
    });
    await enqueue(a, station, 0, 10, "a");
    await waitUntil(async () => proxied >= 1, "tab a to meet the proxy");
    await enqueue(a, station, 10, 20, "a");
    await enqueue(b, station, 0, 20, "b");
    await drained(a, "both tabs' actions");
    await drained(b, "both tabs' actions");
    const stored = await readStation(worker, station);
    expectOnceInOrder(stored, 20, "a");
    expectOnceInOrder(stored, 20, "b");
    expect(stored).toHaveLength(40);
    expect(await deadLetters(a)).toEqual([]);
    await context.close();
  });

  it("keeps syncing when the clock is set back an hour during a backoff", async () => {
    const station = "eo-clock-back";
    await createStation(station);
    const context = await newContext();
    await context.addInitScript(() => {
      const realNow = Date.now.bind(Date);
      (window as any).clockOffsetMs = 0;
      Date.now = () => realNow() + (window as any).clockOffsetMs;
    });
    const page = await clientPage(context);
    // The clock goes back an hour while the SDK waits out the Retry-After of a 503.
    await page.evaluate(() => {
      const w = window as any;
      const off = w.ws.on("status", (status: { state: string }) => {
        if (status.state !== "error") return;
        off();
        setTimeout(() => (w.clockOffsetMs = -3_600_000), 0);
      });
    });
    let failures = 0;
    await page.route(`**/v1/stations/${station}/messages`, async (route) => {
      if (failures >= 1) return route.fallback();
      failures++;
      await route.fulfill({ status: 503, headers: { "retry-after": "1" }, contentType: "application/json", body: JSON.stringify({ error: { code: "unavailable", message: "down" } }) });
    });
    await enqueue(page, station, 0, 10);
    await waitUntil(async () => failures >= 1, "a failed attempt");
    await waitUntil(async () => (await pendingCount(page)) === 0, "delivery within seconds of the clock jump", 20_000);
    expect(await page.evaluate(() => (window as any).clockOffsetMs)).toBe(-3_600_000);
    expectOnceInOrder(await readStation(worker, station), 10);
    await context.close();
  });

  it("works in a browser without AbortSignal.timeout, AbortSignal.any or navigator.locks", async () => {
    const station = "eo-old-browser";
    await createStation(station);
    const context = await newContext();
    await context.addInitScript(() => {
      delete (AbortSignal as any).timeout;
      delete (AbortSignal as any).any;
      Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined, configurable: true });
    });
    const page = await clientPage(context);
    expect(await page.evaluate(() => [typeof (AbortSignal as any).timeout, typeof navigator.locks])).toEqual(["undefined", "undefined"]);
    await context.setOffline(true);
    await enqueue(page, station, 0, 10);
    const { lost } = loseFirstAnswer(page, station, async () => {});
    await context.setOffline(false);
    await lost;
    await enqueue(page, station, 10, 20);
    await drained(page, "the outbox to drain");
    expectOnceInOrder(await readStation(worker, station), 20);
    expect(await deadLetters(page)).toEqual([]);
    await context.close();
  });
});
