// The operator dashboard in real Chromium against `wrangler dev`: sign in, create a station
// from the form (with the API's own validation messages), watch counts, lag and dead letters
// update live, move a group ("Replay from…"), resend and drop dead letters, create a webhook and
// see it fail, edit config —
// with no console or page errors, no request to any other host, and a screenshot of each main
// view at desktop and phone widths under test/artifacts/.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DESKTOP,
  PHONE,
  type WatchedPage,
  launchChromium,
  openWatchedPage,
  screenshot,
  signIn,
  startDashboardWorker,
  startFailingReceiver,
  until,
  waitForText,
} from "./dashboard-helpers";
import { apiClient, removeStateDir } from "./wrangler-dev";

const STATION = "orders";

describe("operator dashboard", () => {
  let worker: Awaited<ReturnType<typeof startDashboardWorker>>;
  let browser: Browser;
  let receiver: Awaited<ReturnType<typeof startFailingReceiver>>;
  let api: ReturnType<typeof apiClient>;
  let desk: WatchedPage;

  beforeAll(async () => {
    [worker, browser, receiver] = await Promise.all([startDashboardWorker(), launchChromium(), startFailingReceiver()]);
    api = apiClient(worker);
    desk = await openWatchedPage(browser, DESKTOP);
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await worker?.stop();
    if (worker) removeStateDir(worker.stateDir);
    worker?.cleanup();
  });

  it("is served never cached, with a same-origin-only CSP", async () => {
    const res = await fetch(`${worker.url}/dashboard/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect((await api("GET", "/v1/stations")).headers.get("cache-control")).toBe("no-store");
  });

  it("refuses a wrong token on the sign-in screen, then signs in and keeps the token in sessionStorage only", async () => {
    const { page } = desk;
    await page.goto(`${worker.url}/dashboard`);
    await page.locator("#token").waitFor();
    await screenshot(page, "sign-in");
    desk.expectFailure(401);
    await page.fill("#token", "not-the-right-token-at-all");
    await page.click("form.signin-card button[type=submit]");
    await waitForText(page.locator(".error-code"), "unauthorized");
    await signIn(page, worker.url, worker.token);
    await waitForText(page.locator(".empty"), /No stations yet/);
    const stored = await page.evaluate(() => ({ session: Object.values(sessionStorage), local: Object.keys(localStorage).length, cookie: document.cookie }));
    expect(stored).toEqual({ session: [worker.token], local: 0, cookie: "" });
  });

  it("creates a station from the form, showing the API's own validation message first", async () => {
    const { page } = desk;
    await page.click("#new-station");
    await page.fill("#f-name", STATION);
    await page.fill("#f-ackTimeoutMs", "5");
    await page.click("#save-station");
    const shown = await waitForText(page.locator(".error-box .error-message"), /ackTimeoutMs/);
    // The same body sent straight to the API is refused with the very same code and message.
    const direct = await api("PUT", "/v1/stations/never-created", { ackTimeoutMs: 5 });
    expect(direct.status).toBe(422);
    expect(await page.locator(".error-box .error-code").textContent()).toBe(direct.body.error.code);
    expect(shown).toBe(direct.body.error.message);
    expect(await page.locator('.field[data-path="ackTimeoutMs"] .field-error').textContent()).toBe(direct.body.error.issues[0].message);
    expect((await api("GET", "/v1/stations/never-created")).status).toBe(404);
    await screenshot(page, "new-station");

    // A refusal only the API can give (the name is its path) is shown as the API answered it.
    await page.fill("#f-ackTimeoutMs", "");
    await page.fill("#f-name", "Orders!");
    desk.expectFailure(400);
    await page.click("#save-station");
    const refused = await api("PUT", "/v1/stations/Orders!", {});
    await waitForText(page.locator(".error-box .error-code"), refused.body.error.code);
    expect(await page.locator(".error-box .error-message").textContent()).toBe(refused.body.error.message);
    await waitForText(page.locator('.field[data-path="name"] .field-error'), refused.body.error.message);

    await page.fill("#f-name", STATION);
    await page.fill("#f-maxDeliveries", "1");
    await page.fill("#f-retention-maxAgeMs", "604800000");
    await page.click("#save-station");
    await waitForText(page.locator("h1.station-name"), STATION);
    const created = await api("GET", `/v1/stations/${STATION}`);
    expect(created.body.config).toMatchObject({ maxDeliveries: 1, retention: { maxAgeMs: 604800000 } });
  });

  it("shows produced messages, group lag and pending, and dead letters as they happen", async () => {
    const { page } = desk;
    const messages = [
      { seq: 1, body: { order: 1, items: ["milk", "eggs"], total: 4.5 }, headers: { type: "order", "x-note": "<b>not markup</b>" }, key: "user-7" },
      { seq: 2, body: { $binary: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZH" } },
      { seq: 3, body: "<img src=x onerror=alert(1)>" },
      { seq: 4, body: { order: 2, nested: { deep: { list: [1, 2, 3] } } } },
      { seq: 5, body: null },
    ];
    expect((await api("POST", `/v1/stations/${STATION}/messages`, { producer: "web-1", messages })).status).toBe(200);
    await waitForText(page.locator(".stat").filter({ hasText: "Messages" }).locator(".stat-value"), "5");

    expect((await api("PUT", `/v1/stations/${STATION}/groups/billing`, {})).status).toBe(201);
    const leased = await api("POST", `/v1/stations/${STATION}/groups/billing/fetch`, { consumer: "c1", max: 2 });
    expect(leased.body.messages).toHaveLength(2);
    await api("POST", `/v1/stations/${STATION}/groups/billing/ack`, { offsets: [1] });
    const billing = page.locator('tr[data-group="billing"]');
    await waitForText(billing.locator('td[data-label="Lag"]'), "3");
    await waitForText(billing.locator('td[data-label="Pending"]'), "1");
    await waitForText(billing.locator('td[data-label="Ack floor"]'), "1");
    await waitForText(billing.locator('td[data-label="Consumers seen"] .consumer-count'), "1");
    await waitForText(billing.locator('td[data-label="Consumers seen"] li[data-consumer="c1"]'), /^c1 · last seen (just now|\d+ s ago) · 1 pending$/);

    // audit gives up fast: its unacked delivery becomes a dead letter (maxDeliveries is 1).
    expect((await api("PUT", `/v1/stations/${STATION}/groups/audit`, { ackTimeoutMs: 100 })).status).toBe(201);
    await api("POST", `/v1/stations/${STATION}/groups/audit/fetch`, { consumer: "c2", max: 1 });
    await waitForText(page.locator('tr[data-group="audit"] td[data-label="Dead letters"]'), "1");
    await waitForText(page.locator(".stat").filter({ hasText: "Dead letters" }).locator(".stat-value"), "1");
    await waitForText(page.locator('.tab[data-tab="dls"] .tab-count'), "1");
    await waitForText(page.locator(".legend.produced"), "Produced 5");
    await screenshot(page, "station");
  });

  it("moves a group with \"Replay from…\": the API's answer shown, the table following, a bad offset refused as the API said", async () => {
    const { page } = desk;
    await page.click('button[data-replay="billing"]');
    await page.selectOption("#seek-mode", "offset");
    await page.fill("#seek-offset", "3");
    await page.click("#seek-submit");
    // billing held offset 2 leased: the move drops it, and 3… are handed out again from scratch.
    await waitForText(page.locator("#seek-result"), "Next offset 3 · ack floor 2 · lag 3 · pending 0 · 1 lease dropped");
    const billing = page.locator('tr[data-group="billing"]');
    await waitForText(billing.locator('td[data-label="Ack floor"]'), "2");
    await waitForText(billing.locator('td[data-label="Pending"]'), "0");
    const info = await api("GET", `/v1/stations/${STATION}/groups/billing`);
    expect(info.body).toMatchObject({ nextOffset: 3, ackFloor: 2, epoch: 1 });
    await screenshot(page, "group-seek");
    desk.expectFailure(422);
    await page.fill("#seek-offset", "99");
    await page.click("#seek-submit");
    await waitForText(page.locator("#seek-result .error-code"), "invalid_request");
    expect((await api("GET", `/v1/stations/${STATION}/groups/billing`)).body).toMatchObject({ nextOffset: 3, epoch: 1 });
    await page.click('#group-seek button:has-text("Close")');
  });

  it("browses messages newest first, pretty-printed, binary as size and hex, text never as markup", async () => {
    const { page } = desk;
    await page.click('.tab[data-tab="messages"]');
    await page.locator("article.msg").first().waitFor();
    const offsets = await page.locator("article.msg").evaluateAll((els) => els.map((el) => Number(el.getAttribute("data-offset"))));
    expect(offsets).toEqual([5, 4, 3, 2, 1]);
    await waitForText(page.locator('article.msg[data-offset="2"] .badge'), "binary · 72 B");
    expect(await page.locator('article.msg[data-offset="2"] pre.hex').textContent()).toContain("0000  00 01 02 03");
    expect(await page.locator('article.msg[data-offset="3"] pre.json').textContent()).toBe('"<img src=x onerror=alert(1)>"');
    expect(await page.locator("article.msg img, article.msg b").count()).toBe(0);
    expect(await page.locator('article.msg[data-offset="1"] dl.headers').textContent()).toContain("<b>not markup</b>");
    await screenshot(page, "messages");
  });

  it("resends a dead letter one at a time and drops them in bulk", async () => {
    const { page } = desk;
    await page.click('.tab[data-tab="dls"]');
    const letter = page.locator("article.letter").first();
    await waitForText(letter.locator(".badge"), "max deliveries");
    await screenshot(page, "dead-letters");
    await letter.locator('[data-action="resend"]').click();
    await waitForText(page.locator(".dead-letters .empty"), /No dead letters/);
    const afterResend = await api("GET", `/v1/stations/${STATION}/dls`);
    expect(afterResend.body.deadLetters).toEqual([]);
    // Back in its group: the next fetch hands it out again, and the lease runs out once more.
    const again = await api("POST", `/v1/stations/${STATION}/groups/audit/fetch`, { consumer: "c2", max: 3 });
    expect(again.body.messages.map((m: any) => m.offset)).toContain(1);
    await until(async () => (await page.locator("article.letter").count()) === 3, "three dead letters");

    await page.check("#select-all");
    await waitForText(page.locator("#selection-count"), "3 selected");
    await page.click("#drop-selected");
    await page.click('dialog.confirm [data-confirm="yes"]');
    await waitForText(page.locator(".dead-letters .empty"), /No dead letters/);
    expect((await api("GET", `/v1/stations/${STATION}/dls`)).body.deadLetters).toEqual([]);
  });

  it("creates a webhook endpoint from the form and shows its failures, disable and enable", async () => {
    const { page } = desk;
    await page.click('.tab[data-tab="webhooks"]');
    await page.click("#new-webhook");
    await page.fill("#f-name", "hook");
    await page.fill("#f-url", receiver.url);
    await page.fill("#f-retry-scheduleMs", "50, 50");
    await screenshot(page, "webhook-form");
    await page.click("#save-webhook");
    const secret = await waitForText(page.locator("#new-secret code.secret"), /^whsec_/);
    expect((await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body).not.toHaveProperty("secret");
    expect(secret.length).toBeGreaterThan(20);
    await page.click("#new-secret a");

    await api("POST", `/v1/stations/${STATION}/messages`, { producer: "web-1", messages: [{ seq: 6, body: { order: 3 } }] });
    const endpoint = page.locator('article.endpoint[data-webhook="hook"]');
    await waitForText(endpoint.locator(".endpoint-title .badge"), /^failing/);
    await waitForText(endpoint.locator(".fact").filter({ hasText: "Last status" }).locator("dd"), "500");
    await waitForText(endpoint.locator(".fact").filter({ hasText: "Dead-lettered" }).locator("dd"), "1");
    expect(receiver.hits).toBeGreaterThanOrEqual(3);
    await endpoint.locator("details.recent summary").click();
    await waitForText(endpoint.locator("details.recent tbody tr").first(), /500/);
    await screenshot(page, "webhooks");

    await endpoint.locator('[data-action="disable"]').click();
    await waitForText(endpoint.locator(".endpoint-title .badge"), "disabled · manual");
    expect((await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body).toMatchObject({ enabled: false, url: receiver.url });
    await endpoint.locator('[data-action="enable"]').click();
    await waitForText(endpoint.locator(".endpoint-title .badge"), (t) => !t.startsWith("disabled"));
    const kept = (await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body;
    expect(kept).toMatchObject({ enabled: true, retry: { scheduleMs: [50, 50] } });

    // Replay from offset 6: the receiver is asked again.
    const hitsBefore = receiver.hits;
    await endpoint.locator('input[aria-label="Replay hook from offset"]').fill("6");
    await endpoint.locator('[data-action="replay"]').click();
    await until(() => receiver.hits > hitsBefore, "the replayed delivery");

    // Edit: the form starts from the endpoint's options and keeps those it does not show.
    await endpoint.locator('[data-action="edit"]').click();
    await page.fill("#f-timeoutMs", "5000");
    await page.click("#save-webhook");
    await page.locator('article.endpoint[data-webhook="hook"]').waitFor();
    expect((await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body).toMatchObject({ timeoutMs: 5000, url: receiver.url, retry: { scheduleMs: [50, 50] } });
  });

  it("edits the station's config and lists the station with its figures", async () => {
    const { page } = desk;
    await page.click('.tab[data-tab="config"]');
    await page.locator("#f-retention-maxMessages").waitFor();
    await page.fill("#f-retention-maxMessages", "1000");
    await screenshot(page, "config");
    await page.click("#save-station");
    await until(async () => (await api("GET", `/v1/stations/${STATION}`)).body.config.retention.maxMessages === 1000, "config saved");
    expect((await api("GET", `/v1/stations/${STATION}`)).body.config).toMatchObject({ maxDeliveries: 1, retention: { maxAgeMs: 604800000, maxMessages: 1000 } });

    await page.click(".topbar nav a");
    const row = page.locator(`tr[data-station="${STATION}"]`);
    await waitForText(row.locator('td[data-label="Messages"]'), "6");
    await waitForText(row.locator('td[data-label="Retention"]'), "7 d · 1,000 msgs");
    await screenshot(page, "stations");
  });

  it("turns on archiving to R2 from the config form and shows what R2 holds beside what the object stores", async () => {
    const { page } = desk;
    const station = "archived";
    expect((await api("PUT", `/v1/stations/${station}`, { retention: { maxMessages: 5 } })).status).toBe(201);
    await page.goto(`${worker.url}/dashboard/#/s/${station}/config`);
    await page.locator("#f-retention-archive").check();
    await page.click("#save-station");
    await until(async () => (await api("GET", `/v1/stations/${station}`)).body.config.retention.archive === true, "archive saved");

    const messages = Array.from({ length: 12 }, (_, n) => ({ body: { n } }));
    expect((await api("POST", `/v1/stations/${station}/messages`, { messages })).status).toBe(200);
    const stats = await until(async () => {
      const { body } = await api("GET", `/v1/stations/${station}`);
      return body.stats.archivedMessages === 7 ? body.stats : null;
    }, "seven messages archived");
    await page.goto(`${worker.url}/dashboard/#/s/${station}`);
    const stored = page.locator(".stat", { hasText: "Stored" });
    await waitForText(stored.locator(".stat-hint"), /^\+ .+ in R2 \(7 messages\)$/);
    expect(stats).toMatchObject({ messages: 5, firstOffset: 8 });
    await waitForText(page.locator(".stat", { hasText: "Retention" }).locator(".stat-value"), "5 msgs · then R2");
    await screenshot(page, "archive");
  });

  it("serves /metrics that agree with the API", async () => {
    const scrape = async () => {
      const res = await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${worker.token}` } });
      expect(res.status).toBe(200);
      return res.text();
    };
    // The replayed delivery may still be retrying: compare once the endpoint's figures hold still.
    await until(async () => {
      const before = (await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body.health;
      const text = await scrape();
      const info = (await api("GET", `/v1/stations/${STATION}`)).body;
      const after = (await api("GET", `/v1/stations/${STATION}/webhooks/hook`)).body.health;
      if (before.deadLettered !== after.deadLettered) return false;
      expect(text).toContain(`waystation_station_messages{station="${STATION}"} ${info.stats.messages}\n`);
      expect(text).toContain(`waystation_station_produced_total{station="${STATION}"} ${info.stats.produced}\n`);
      expect(text).toContain(`waystation_webhook_dead_lettered_total{station="${STATION}",webhook="hook"} ${after.deadLettered}\n`);
      return true;
    }, "steady webhook figures");
  });

  it("fits a phone's width on every main view", async () => {
    const phone = await openWatchedPage(browser, PHONE);
    await signIn(phone.page, worker.url, worker.token);
    const views: Array<[string, string, string]> = [
      ["stations", "#/", `tr[data-station="${STATION}"]`],
      ["station", `#/s/${STATION}`, ".chart"],
      ["messages", `#/s/${STATION}/messages`, "article.msg"],
      ["dead-letters", `#/s/${STATION}/dls`, ".dead-letters article.letter"],
      ["webhooks", `#/s/${STATION}/webhooks`, "article.endpoint"],
      ["config", `#/s/${STATION}/config`, "#station-form"],
    ];
    for (const [name, hash, ready] of views) {
      await phone.page.goto(`${worker.url}/dashboard/${hash}`);
      await phone.page.locator(ready).first().waitFor();
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
      await screenshot(phone.page, name);
    }
    expectClean(phone);
  });

  it("made no request to another host, never put the token in a URL, and logged no errors", async () => {
    const origin = new URL(worker.url).origin;
    expect(desk.requests.length).toBeGreaterThan(20);
    expect(desk.requests.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    expect(desk.requests.filter((url) => url.includes(worker.token))).toEqual([]);
    expectClean(desk);
    await desk.page.click("#sign-out");
    await desk.page.locator("#token").waitFor();
    expect(await desk.page.evaluate(() => sessionStorage.length)).toBe(0);
  });
});

function expectClean(watched: WatchedPage): void {
  expect(watched.pageErrors).toEqual([]);
  expect(watched.consoleErrors).toEqual([]);
}
