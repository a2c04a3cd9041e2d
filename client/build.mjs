// Builds what the Worker serves as static assets: the SDK as one ES module and the demo page.
// Run by wrangler before `dev` and `deploy` (wrangler.toml [build]); writes dist/public/.
import { build } from "esbuild";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "dist", "public");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
cpSync(join(root, "client", "demo"), out, { recursive: true, filter: (src) => !src.endsWith(".ts") });

const entries = [
  ["client/index.ts", "waystation.js"],
  ["client/demo/demo.ts", "demo.js"],
].filter(([entry]) => existsSync(join(root, entry)));

for (const [entry, file] of entries) {
  await build({
    entryPoints: [join(root, entry)],
    outfile: join(out, file),
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    sourcemap: true,
    logLevel: "warning",
  });
}
