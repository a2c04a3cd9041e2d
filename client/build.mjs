// Builds what the Worker serves as static assets: the SDK's ES modules and the demo page.
// Run by wrangler before `dev` and `deploy` (wrangler.toml [build]); writes dist/public/.
// With --package: the npm package `waystation` instead (client/package.json), into client/dist/.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pureValibot } from "./pure-valibot.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
if (process.argv.includes("--package")) {
  await buildPackage();
  process.exit(0);
}

/**
 * The npm package: one ES module per entry point (`.`, `./doc`, `./server`) with code splitting,
 * so the entries share one copy of the client and the contract (`instanceof WaystationError`
 * holds across them). Not minified: the app's bundler minifies, and keeps the pure annotations
 * that let it drop the shared/ schemas the app does not use. Dependencies stay imports, so the
 * app has one copy of valibot, idb and yjs. Declarations come from tsc.
 */
async function buildPackage() {
  const dist = join(root, "client", "dist");
  rmSync(dist, { recursive: true, force: true });
  await build({
    entryPoints: {
      index: join(root, "client", "index.ts"),
      doc: join(root, "client", "doc.ts"),
      server: join(root, "client", "server", "index.ts"),
      // Sync with no tab open: the page's registerSyncWorker and the service worker's installSyncWorker.
      sw: join(root, "client", "sw.ts"),
    },
    outdir: dist,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    external: ["valibot", "idb", "yjs", "@cfworker/json-schema"],
    logLevel: "warning",
    plugins: [pureValibot],
  });
  // Declarations by tsc, from a throwaway config on the repository's base options.
  const config = join(dist, "tsconfig.types.json");
  const files = ["client/index.ts", "client/doc.ts", "client/server/index.ts", "client/sw.ts"].map((f) => join(root, f));
  const compilerOptions = { noEmit: false, declaration: true, emitDeclarationOnly: true, outDir: join(dist, "types"), rootDir: root, lib: ["ES2023", "DOM", "DOM.Iterable"], types: [] };
  writeFileSync(config, JSON.stringify({ extends: join(root, "tsconfig.json"), compilerOptions, files }));
  try {
    execFileSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", config], { stdio: "inherit" });
  } finally {
    rmSync(config);
  }
}

// WAYSTATION_PUBLIC_DIR builds elsewhere: a test's private copy no other `wrangler dev` rebuilds.
const out = process.env.WAYSTATION_PUBLIC_DIR ?? join(root, "dist", "public");

// Tests and benchmarks build once (npm test does) and start many `wrangler dev`s, each of which
// would run this build again: WAYSTATION_SKIP_BUILD=1 keeps an existing build.
if (process.env.WAYSTATION_SKIP_BUILD === "1" && existsSync(join(out, "waystation.js"))) process.exit(0);

// Build beside the served folder and swap it in at the end, so a `wrangler dev` already
// serving it never sees a half-written or empty folder.
const staging = `${out}.staging-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(staging, { recursive: true });
cpSync(join(root, "client", "demo"), staging, { recursive: true, filter: (src) => !src.endsWith(".ts") });
// The operator dashboard at /dashboard/: its static files, and its header rules appended to
// the assets' _headers (no-store, CSP).
cpSync(join(root, "client", "dashboard"), join(staging, "dashboard"), { recursive: true, filter: (src) => !src.endsWith(".ts") && !src.endsWith("_headers") });
appendFileSync(join(staging, "_headers"), readFileSync(join(root, "client", "dashboard", "_headers")));

// The SDK's entry points, built together with code splitting: what both use (WaystationError,
// the contract in shared/, the client) lives once in a shared chunk both import, so
// `instanceof WaystationError` holds across `/waystation.js` and `/waystation-doc.js`, and
// what a bundle loads with import() (the SDK's JSON Schema validator) is a chunk of its own,
// fetched only when first needed.
const sdk = {
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  format: "esm",
  target: "es2022",
  logLevel: "warning",
  plugins: [pureValibot], // drops the shared/ schemas a bundle does not use
};
await build({
  ...sdk,
  entryPoints: {
    waystation: join(root, "client", "index.ts"),
    // Collaborative documents: a separate module, so the core bundle holds no yjs.
    "waystation-doc": join(root, "client", "doc.ts"),
  },
  outdir: staging,
  minify: true,
  sourcemap: true,
});
// The demo and the dashboard are apps of their own: each bundles what it uses.
const apps = [
  ["client/demo/demo.ts", "demo"],
  ["client/dashboard/main.ts", "dashboard/dashboard"],
].filter(([entry]) => existsSync(join(root, entry)));
for (const [entry, name] of apps) {
  await build({ ...sdk, entryPoints: { [name]: join(root, entry) }, outdir: staging, minify: true, sourcemap: true });
}

// The sync service worker at /waystation-sw.js (client/sw/script.ts): a classic script with
// nothing to import (module service workers are not everywhere), served from the root so its
// scope covers the app's pages.
await build({
  entryPoints: { "waystation-sw": join(root, "client", "sw", "script.ts") },
  outdir: staging,
  bundle: true,
  format: "iife",
  target: "es2022",
  minify: true,
  sourcemap: true,
  logLevel: "warning",
  plugins: [pureValibot],
});

const retired = `${out}.retired-${process.pid}`;
if (existsSync(out)) renameSync(out, retired);
renameSync(staging, out);
rmSync(retired, { recursive: true, force: true });
