// Builds what the Worker serves as static assets: the SDK as one ES module and the demo page.
// Run by wrangler before `dev` and `deploy` (wrangler.toml [build]); writes dist/public/.
import { build } from "esbuild";
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pureValibot } from "./pure-valibot.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
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

const entries = [
  ["client/index.ts", "waystation.js"],
  // Collaborative documents: a separate module, so the core bundle holds no yjs.
  ["client/doc.ts", "waystation-doc.js"],
  ["client/demo/demo.ts", "demo.js"],
  ["client/dashboard/main.ts", "dashboard/dashboard.js"],
].filter(([entry]) => existsSync(join(root, entry)));

for (const [entry, file] of entries) {
  const name = file.replace(/\.js$/, "");
  await build({
    entryPoints: { [name]: join(root, entry) },
    outdir: staging,
    // Code split: what a bundle loads with import() (the SDK's JSON Schema validator) becomes
    // its own chunk, fetched only when first needed, so the core stays small.
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
    plugins: [pureValibot], // drops the shared/ schemas a bundle does not use
  });
}

const retired = `${out}.retired-${process.pid}`;
if (existsSync(out)) renameSync(out, retired);
renameSync(staging, out);
rmSync(retired, { recursive: true, force: true });
