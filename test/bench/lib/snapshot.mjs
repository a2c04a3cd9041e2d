// Freezes the Waystation worker for a benchmark run: bundles it once (the deploy dry run) into a
// temporary directory with a copy of wrangler.toml pointing at the bundle. wrangler dev then runs
// the snapshot, so edits to the working tree during a run cannot rebuild or reload the worker.
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./wrangler-dev.mjs";

const run = promisify(execFile);

/** @returns {Promise<{config: string, bundle: string, commit: string, dirtyFiles: number, remove(): void}>} */
export async function snapshotWaystation() {
  const dir = mkdtempSync(join(tmpdir(), "waystation-bench-snapshot-"));
  await run(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--outdir", join(dir, "bundle")], {
    cwd: ROOT,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    timeout: 180_000,
  });
  const assets = join(ROOT, "dist", "public");
  if (existsSync(assets)) cpSync(assets, join(dir, "public"), { recursive: true });
  else mkdirSync(join(dir, "public"));

  let toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  toml = toml.replace(/^\[build\][\s\S]*?(?=^\[)/m, ""); // built already; nothing to watch
  toml = toml.replace(/^main\s*=.*$/m, 'main = "bundle/index.js"');
  toml = toml.replace(/^(\s*directory\s*=\s*)".*"/m, '$1"public"');
  const config = join(dir, "wrangler.toml");
  writeFileSync(config, toml);

  const git = async (...args) => (await run("git", args, { cwd: ROOT })).stdout.trim();
  const commit = await git("rev-parse", "--short", "HEAD").catch(() => "?");
  const dirty = await git("status", "--porcelain", "--", "worker", "shared", "wrangler.toml").catch(() => "");
  return { config, bundle: join(dir, "bundle", "index.js"), commit, dirtyFiles: dirty ? dirty.split("\n").length : 0, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
