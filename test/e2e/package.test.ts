// The npm package as a user gets it: `npm pack` in client/, the tarball installed into a fresh
// app folder, imported by name. The app bundles are measured as a bundler ships them (esbuild,
// minified, split, gzipped; client/bundle-size.mjs); one of them runs in Chromium against
// `wrangler dev` (enqueue offline, go online, acked); and a plain Node script imports
// `waystation/server` by name and produces and consumes through it.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { build } from "esbuild";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APPS, GOALS, measureApp } from "../../client/bundle-size.mjs";
import { createStation, launchChromium, readStation, waitUntil } from "./sdk-browser";
import { apiClient, ROOT, type RunningWorker, removeStateDir, startWorker } from "./wrangler-dev";

const CLIENT = join(ROOT, "client");
/**
 * What the app bundles may weigh, gzipped, with the page. The goals are 8 KB (producer)
 * and 11 KB (with consume); they are NOT met (docs/sdk.md: 18.8 KB and 18.8 KB, the consumer's
 * loop loaded on first use). These budgets are today's figures plus about 1 KB, so growth fails
 * here and has to be argued for. Partitions added 1.3 KB to the browser SDK (the routing hash, a
 * stream per partition, the count learned and adopted) and 0.7 KB to the server client (numbering
 * per partition with a store): docs/sdk-partitions.md.
 */
const BUDGETS = { producer: 19.5 * 1024, consumer: 19.5 * 1024, doc: 26 * 1024, server: 10.5 * 1024 };

let app: string;
let worker: RunningWorker;
let browser: Browser;

function npm(args: string[], cwd: string): string {
  const result = spawnSync("npm", args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  if (result.status !== 0) throw new Error(`npm ${args.join(" ")} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

beforeAll(async () => {
  // `npm run build` builds the package; this file alone builds it if it is missing.
  if (!existsSync(join(CLIENT, "dist", "index.js"))) execFileSync(process.execPath, [join(CLIENT, "build.mjs"), "--package"], { stdio: "inherit" });
  app = mkdtempSync(join(tmpdir(), "waystation-app-"));
  // The build is fresh: pack it as it is (`prepack` would build it again).
  const [packed] = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", app], CLIENT));
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "waystation-test-app", private: true, type: "module" }));
  // Dependencies (idb, valibot, @cfworker/json-schema) from the npm cache when it has them.
  npm(["install", "--no-audit", "--no-fund", "--prefer-offline", join(app, packed.filename)], app);
  [worker, browser] = await Promise.all([startWorker(), launchChromium()]);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop();
  if (worker) removeStateDir(worker.stateDir);
  if (app) rmSync(app, { recursive: true, force: true });
});

describe("the waystation package from its tarball", () => {
  it("holds the built entries, their declarations and the README, and no sources", () => {
    const installed = join(app, "node_modules", "waystation");
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8"));
    expect(Object.keys(manifest.exports)).toEqual(expect.arrayContaining([".", "./doc", "./server"]));
    expect(manifest.sideEffects).toBe(false);
    for (const entry of [".", "./doc", "./server"]) {
      expect(existsSync(join(installed, manifest.exports[entry].import)), entry).toBe(true);
      expect(existsSync(join(installed, manifest.exports[entry].types)), entry).toBe(true);
    }
    expect(existsSync(join(installed, "README.md"))).toBe(true);
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : [join(dir, d.name)]));
    const sources = files(installed).filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"));
    expect(sources).toEqual([]);
  });

  it("defines WaystationError once across the package's entries, and once across the served bundles", () => {
    const installed = join(app, "node_modules", "waystation", "dist");
    const js = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? js(join(dir, d.name)) : d.name.endsWith(".js") ? [join(dir, d.name)] : []));
    const count = (files: string[]) => files.reduce((n, f) => n + (readFileSync(f, "utf8").match(/name = "WaystationError"|name="WaystationError"/g)?.length ?? 0), 0);
    expect(count(js(installed))).toBe(1);
    // What the worker serves: /waystation.js and /waystation-doc.js import the same chunk.
    // (The demo is bundled on its own and writes its chunks beside them: only what the two
    // entries import, statically or with import(), is followed.)
    const served = join(ROOT, "dist", "public");
    const reached = new Set<string>();
    const follow = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.\/[^"]+\.js)"/g)) follow(join(dirname(file), spec!));
    };
    follow(join(served, "waystation.js"));
    follow(join(served, "waystation-doc.js"));
    expect(reached.size).toBeGreaterThan(2);
    expect(count([...reached])).toBe(1);
  });

  it("one WaystationError across the entries (instanceof holds), imported by name from plain Node", () => {
    const script = `
      import { WaystationError as A } from "waystation";
      import { WaystationError as B } from "waystation/server";
      console.log(JSON.stringify({ same: A === B, instance: new B("closed", "x") instanceof A }));`;
    // idb and the doc entry's yjs are imported lazily or not at all here: Node has no IndexedDB.
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: app, encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ same: true, instance: true });
  });

  it("app bundles weigh what docs/sdk.md reports (goals: producer ≤ 8 KB, with consume ≤ 11 KB gzipped)", async () => {
    const sizes: Record<string, Awaited<ReturnType<typeof measureApp>>> = {};
    for (const [name, source] of Object.entries(APPS)) sizes[name] = await measureApp(source, { resolveDir: app });
    const report = Object.fromEntries(Object.entries(sizes).map(([k, s]) => [k, { initialGzip: s.initialGzip, lazyGzip: s.lazyGzip }]));
    console.log(`package app sizes (gzipped bytes; goals ${JSON.stringify(GOALS)}): ${JSON.stringify(report)}`);
    for (const [name, budget] of Object.entries(BUDGETS)) expect(sizes[name]!.initialGzip, name).toBeLessThanOrEqual(budget);
    // What the tree shaking must keep apart: the consumer's loop is not in a producer's page.
    const producerFiles = sizes.producer!.inputs.map(([file]) => file);
    expect(producerFiles.some((f) => f.includes("yjs"))).toBe(false);
    expect(producerFiles.some((f) => /consumer-loop/.test(f))).toBe(false);
    expect(sizes.producer!.lazyChunks.some((c) => c.inputs.some((f) => /consumer-loop/.test(f)))).toBe(true);
    expect(sizes.doc!.inputs.some(([file]) => file.includes("node_modules/yjs"))).toBe(false);
  });

  it("a bundled app enqueues offline in Chromium and the station acks it once back online", async () => {
    const station = `e2e-package-${Date.now().toString(36)}`;
    await createStation(worker, station);
    const bundle = await build({
      stdin: {
        contents: `import { createClient, WaystationError } from "waystation";
          window.app = { createClient, WaystationError };`,
        resolveDir: app,
        sourcefile: "main.js",
      },
      outdir: "/app",
      bundle: true,
      splitting: true,
      format: "esm",
      minify: true,
      write: false,
      logLevel: "error",
    });
    const files = new Map(bundle.outputFiles.map((f) => [f.path.replace(/^\/app/, "/pkgapp"), f.text]));
    const context = await browser.newContext();
    await context.route(`${worker.url}/pkgapp/**`, (route) => {
      const path = new URL(route.request().url()).pathname;
      if (path === "/pkgapp/index.html") {
        return route.fulfill({ contentType: "text/html", body: `<!doctype html><meta charset=utf-8><script type=module src="/pkgapp/stdin.js"></script>` });
      }
      const text = files.get(path);
      return text === undefined ? route.fulfill({ status: 404, body: "" }) : route.fulfill({ contentType: "text/javascript", body: text });
    });
    const page = await context.newPage();
    await page.goto(`${worker.url}/pkgapp/index.html`);
    await page.waitForFunction(() => (window as any).app);
    await page.evaluate((token) => {
      const w = window as any;
      w.client = w.app.createClient({ url: location.origin, token, backoffBaseMs: 200, backoffMaxMs: 1000 });
      w.acked = [];
      w.client.on("acked", (e: unknown) => w.acked.push(e));
    }, worker.token);

    await context.setOffline(true);
    const seqs = await page.evaluate(async (station) => {
      const st = (window as any).client.station(station);
      return [(await st.enqueue({ n: 1 })).seq, (await st.enqueue({ n: 2 })).seq];
    }, station);
    expect(seqs).toEqual([1, 2]);
    await new Promise((r) => setTimeout(r, 1000));
    expect(await page.evaluate(async () => (await (window as any).client.pending()).length)).toBe(2);
    expect(await readStation(worker, station)).toEqual([]);

    await context.setOffline(false);
    await waitUntil(async () => (await page.evaluate(() => (window as any).acked.length)) === 2, "both actions acked");
    expect((await readStation(worker, station)).map((m) => m.body)).toEqual([{ n: 1 }, { n: 2 }]);
    await context.close();
  });

  it("a plain Node script imports waystation/server by name, produces and consumes", async () => {
    const station = `e2e-package-srv-${Date.now().toString(36)}`;
    const call = apiClient(worker);
    expect((await call("PUT", `/v1/stations/${station}`, {})).status).toBe(201);
    expect((await call("PUT", `/v1/stations/${station}/groups/g`, {})).status).toBe(201);
    const script = `
      import { createServerClient } from "waystation/server";
      const client = createServerClient({ url: process.env.WS_URL, token: process.env.WS_TOKEN });
      const producer = client.producer(process.env.WS_STATION);
      const sent = await Promise.all([1, 2, 3].map((n) => producer.send({ n })));
      const seen = [];
      const consumer = client.consume(process.env.WS_STATION, "g", (m) => { seen.push(m.body.n); });
      while (seen.length < 3) await new Promise((r) => setTimeout(r, 50));
      await consumer.stop();
      console.log(JSON.stringify({ offsets: sent.map((s) => s.offset), seen: seen.sort() }));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: app,
      encoding: "utf8",
      env: { ...process.env, WS_URL: worker.url, WS_TOKEN: worker.token, WS_STATION: station },
      timeout: 60_000,
    });
    expect(JSON.parse(out)).toEqual({ offsets: [1, 2, 3], seen: [1, 2, 3] });
    expect((await call("GET", `/v1/stations/${station}/groups/g`)).body).toMatchObject({ acked: 3, pending: 0 });
  });
});
