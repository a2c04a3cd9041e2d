// Reports what apps ship when they use the npm package (client/dist, built by
// `node client/build.mjs --package`): tiny apps bundled with esbuild (bundle, minify, ESM,
// code splitting) as an app's bundler would, then gzipped. `initial` is the entry and every
// chunk it imports statically (loaded with the page); `lazy` is what it loads with import()
// on first use (the consumer's loop, the JSON Schema validator once a station has a schema).
// Usage: node client/bundle-size.mjs [--json]. The tarball test (test/e2e/package.test.ts)
// asserts the goals on the packed package; this prints the figures and the largest inputs.
import { build } from "esbuild";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "client", "dist");

/** The apps measured: what each imports and does. */
export const APPS = {
  producer: `import { createClient } from "waystation";
const client = createClient({ url: "https://broker.example.com", token: "t" });
await client.station("todos").enqueue({ op: "add" });`,
  consumer: `import { createClient } from "waystation";
const client = createClient({ url: "https://broker.example.com", token: "t" });
await client.station("todos").enqueue({ op: "add" });
client.station("todos").consume("ui", (m) => console.log(m.body));`,
  doc: `import { createClient } from "waystation";
import { openDoc } from "waystation/doc";
const doc = openDoc(createClient({ url: "https://broker.example.com", token: "t" }), "notes");
doc.getText("body").insert(0, "hi");`,
  server: `import { createServerClient } from "waystation/server";
const client = createServerClient({ url: "https://broker.example.com", token: "t" });
await client.producer("orders").send({ sku: 1 });
client.consume("orders", "billing", (m) => m.ack(), { concurrency: 8 });`,
};

/** The goals (gzipped bytes of what loads with the page). */
export const GOALS = { producer: 8 * 1024, consumer: 11 * 1024 };

/**
 * Bundles `source` (an app importing "waystation…") and measures it. `resolveDir` is where
 * "waystation" resolves (an app folder with the package installed), or `alias` maps it.
 * yjs stays out: the doc figure is the SDK's part alone.
 */
export async function measureApp(source, { resolveDir, alias } = {}) {
  const result = await build({
    stdin: { contents: source, resolveDir: resolveDir ?? root, sourcefile: "app.js", loader: "js" },
    outdir: "/virtual-out",
    alias,
    bundle: true,
    splitting: true,
    format: "esm",
    target: "es2022",
    minify: true,
    write: false,
    metafile: true,
    external: ["yjs"],
    platform: "browser",
    logLevel: "error",
  });
  const outputs = result.metafile.outputs;
  const gzipOf = (path) => gzipSync(result.outputFiles.find((f) => f.path.endsWith(path.replace(/^.*virtual-out/, ""))).contents, { level: 9 }).length;
  const [entryPath] = Object.entries(outputs).find(([, o]) => o.entryPoint);
  const initial = new Set();
  const walk = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const dep of outputs[path].imports) if (dep.kind === "import-statement" && !dep.external) walk(dep.path);
  };
  walk(entryPath);
  const all = Object.keys(outputs).filter((p) => p.endsWith(".js"));
  const lazy = all.filter((p) => !initial.has(p));
  const inputs = {};
  for (const path of initial) for (const [file, { bytesInOutput }] of Object.entries(outputs[path].inputs)) inputs[file] = (inputs[file] ?? 0) + bytesInOutput;
  return {
    initialGzip: [...initial].reduce((sum, p) => sum + gzipOf(p), 0),
    initialMin: [...initial].reduce((sum, p) => sum + outputs[p].bytes, 0),
    lazyGzip: lazy.reduce((sum, p) => sum + gzipOf(p), 0),
    lazyChunks: lazy.map((p) => ({ inputs: Object.keys(outputs[p].inputs), gzip: gzipOf(p) })),
    inputs: Object.entries(inputs).sort((a, b) => b[1] - a[1]),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!existsSync(join(dist, "index.js"))) {
    console.error("client/dist is missing: run `node client/build.mjs --package` (or `npm run build`) first");
    process.exit(1);
  }
  const alias = { waystation: join(dist, "index.js"), "waystation/doc": join(dist, "doc.js"), "waystation/server": join(dist, "server.js") };
  const sizes = {};
  for (const [name, source] of Object.entries(APPS)) sizes[name] = await measureApp(source, { alias });
  if (process.argv.includes("--json")) {
    console.log(JSON.stringify(Object.fromEntries(Object.entries(sizes).map(([k, s]) => [k, { initialGzip: s.initialGzip, initialMin: s.initialMin, lazyGzip: s.lazyGzip }]))));
  } else {
    const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
    for (const [name, s] of Object.entries(sizes)) {
      const goal = GOALS[name] ? ` (goal ≤ ${kb(GOALS[name])}: ${s.initialGzip <= GOALS[name] ? "met" : "NOT met"})` : "";
      console.log(`${name.padEnd(9)} ${kb(s.initialGzip)} gzipped with the page${goal}, ${kb(s.initialMin)} minified; + ${kb(s.lazyGzip)} gzipped loaded on first use`);
    }
    console.log("\nLargest inputs of the producer app (minified bytes):");
    for (const [file, bytes] of sizes.producer.inputs.slice(0, 15)) console.log(`  ${String(bytes).padStart(6)}  ${file}`);
  }
}
