// The deployable bundle: `wrangler deploy --dry-run --outdir` builds it without an account,
// and it must export every Durable Object class wrangler.toml binds, plus the fetch handler.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { build } from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "./wrangler-dev";

const run = promisify(execFile);

/** The class names wrangler.toml binds as Durable Objects. */
function boundClassNames(): string[] {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  return [...toml.matchAll(/^\s*class_name\s*=\s*"([^"]+)"/gm)].map((m) => m[1]!);
}

/** What an ES module exports and imports, read by esbuild without running it. */
async function analyzeModule(file: string): Promise<{ exports: string[]; imports: string[] }> {
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "neutral",
    external: ["*"],
    logLevel: "silent",
  });
  const output = Object.values(result.metafile!.outputs)[0]!;
  return { exports: output.exports, imports: output.imports.map((i) => i.path) };
}

describe("wrangler deploy --dry-run", () => {
  const outdir = mkdtempSync(join(tmpdir(), "waystation-bundle-"));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it("builds a self-contained bundle exporting the worker and every Durable Object class", async () => {
    const { stdout, stderr } = await run(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
      timeout: 120_000,
    });
    const output = stdout + stderr;
    expect(output).toContain("--dry-run: exiting now.");

    const bundle = join(outdir, "index.js");
    expect(existsSync(bundle), output).toBe(true);
    const { exports, imports } = await analyzeModule(bundle);
    const classes = boundClassNames();
    expect(classes).toEqual(expect.arrayContaining(["Station", "Catalog"]));
    expect(exports).toEqual(expect.arrayContaining(["default", ...classes]));
    // Everything is bundled in; only the runtime's own modules stay imports.
    expect(imports.filter((path) => !path.startsWith("cloudflare:") && !path.startsWith("node:"))).toEqual([]);
  });
});
