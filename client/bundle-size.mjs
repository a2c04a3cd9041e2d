// Reports the SDK bundle's size, minified and gzipped, the way client/build.mjs builds it:
// the whole bundle (what /waystation.js serves) and the core without the schema pre-check and
// its JSON Schema validator (client/schema-check.ts), which is split into a lazily loaded chunk. Usage: node client/bundle-size.mjs [--json]
// Prints only: the goal (≤ 8 KB gzipped without yjs) is not met, so nothing asserts it.
import { build } from "esbuild";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { pureValibot } from "./pure-valibot.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const withoutSchemaCheck = {
  name: "without-schema-check",
  setup(b) {
    b.onLoad({ filter: /[\\/]client[\\/]schema-check\.ts$/ }, () => ({
      contents: "export function prefetchSchema() {}\nexport async function checkBeforeEnqueue() {}\n",
      loader: "ts",
    }));
  },
};

async function measure(plugins) {
  // Built as client/build.mjs builds it: split, so what the SDK loads with import() (the JSON
  // Schema validator) is a separate chunk, fetched only when a station has a schema.
  const result = await build({
    entryPoints: { waystation: join(root, "client", "index.ts") },
    outdir: join(root, "dist", "bundle-size"),
    splitting: true,
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    logLevel: "error",
    plugins,
  });
  const outputs = Object.entries(result.metafile.outputs);
  const [entryPath, entry] = outputs.find(([path]) => path.endsWith("/waystation.js"));
  const gzipOf = (path) => gzipSync(result.outputFiles.find((f) => f.path.endsWith(path.replace(/^.*dist\//, ""))).contents, { level: 9 }).length;
  const lazy = outputs.filter(([path]) => path !== entryPath && path.endsWith(".js"));
  const inputs = Object.entries(entry.inputs)
    .map(([file, { bytesInOutput }]) => ({ file, bytes: bytesInOutput }))
    .sort((a, b) => b.bytes - a.bytes);
  return {
    minBytes: entry.bytes,
    gzipBytes: gzipOf(entryPath),
    lazyGzipBytes: lazy.reduce((sum, [path]) => sum + gzipOf(path), 0),
    inputs,
  };
}

const sizes = {
  bundle: await measure([pureValibot]),
  core: await measure([pureValibot, withoutSchemaCheck]),
};
if (process.argv.includes("--json")) {
  console.log(JSON.stringify({ bundle: { ...sizes.bundle, inputs: undefined }, core: { ...sizes.core, inputs: undefined } }));
} else {
  const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`SDK bundle (client/index.ts → waystation.js): ${kb(sizes.bundle.minBytes)} minified, ${kb(sizes.bundle.gzipBytes)} gzipped`);
  console.log(`  + loaded on first use with a schema:         ${kb(sizes.bundle.lazyGzipBytes)} gzipped (the JSON Schema validator)`);
  console.log(`SDK core without the schema pre-check:       ${kb(sizes.core.minBytes)} minified, ${kb(sizes.core.gzipBytes)} gzipped (goal: 8 KB)`);
  console.log("\nLargest inputs of the bundle (minified bytes):");
  for (const { file, bytes } of sizes.bundle.inputs.slice(0, 15)) console.log(`  ${String(bytes).padStart(6)}  ${file}`);
}
