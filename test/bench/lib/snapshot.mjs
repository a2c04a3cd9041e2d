// Freezes the Waystation worker for a benchmark run: bundles it once (the deploy dry run) into a
// temporary directory with a copy of wrangler.toml pointing at the bundle. wrangler dev then runs
// the snapshot, so edits to the working tree during a run cannot rebuild or reload the worker.
// By default the work tree is bundled; with `ref` (`npm run bench -- --ref HEAD`) a commit is,
// from `git archive` in a temporary directory, so a tree others are editing cannot leak in.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./wrangler-dev.mjs";

const run = promisify(execFile);

/** @returns {Promise<{config: string, bundle: string, commit: string, dirtyFiles: number, remove(): void}>} */
export async function snapshotWaystation({ ref = process.env.BENCH_REF } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "waystation-bench-snapshot-"));
  const git = async (...args) => (await run("git", args, { cwd: ROOT, maxBuffer: 1 << 30 })).stdout.trim();
  try {
    let source = ROOT;
    if (ref) {
      source = join(dir, "source");
      mkdirSync(source);
      await run("sh", ["-c", `git -C "${ROOT}" archive "${ref}" | tar -x -C "${source}"`]);
      symlinkSync(join(ROOT, "node_modules"), join(source, "node_modules"));
    }
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
    // The work tree's SDK bundle is kept when it exists (npm test builds it first): the worker
    // is what is measured, and a half-edited client must not fail the run.
    if (!ref) env.WAYSTATION_SKIP_BUILD = "1";
    await run(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", join(dir, "bundle")], { cwd: source, env, timeout: 180_000 });
    const assets = join(source, "dist", "public");
    if (existsSync(assets)) cpSync(assets, join(dir, "public"), { recursive: true });
    else mkdirSync(join(dir, "public"));

    let toml = readFileSync(join(source, "wrangler.toml"), "utf8");
    toml = toml.replace(/^\[build\][\s\S]*?(?=^\[)/m, ""); // built already; nothing to watch
    toml = toml.replace(/^main\s*=.*$/m, 'main = "bundle/index.js"');
    toml = toml.replace(/^(\s*directory\s*=\s*)".*"/m, '$1"public"');
    const config = join(dir, "wrangler.toml");
    writeFileSync(config, toml);
    if (ref) rmSync(source, { recursive: true, force: true });

    const commit = await git("rev-parse", "--short", ref ?? "HEAD").catch(() => "?");
    const dirty = ref ? "" : await git("status", "--porcelain", "--", "worker", "shared", "wrangler.toml").catch(() => "");
    return { config, bundle: join(dir, "bundle", "index.js"), commit, dirtyFiles: dirty ? dirty.split("\n").length : 0, remove: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
