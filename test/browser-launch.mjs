// The one place that chooses and launches Chromium for every browser test and benchmark: the
// system's /usr/bin/chromium when it exists, else the binary shipped inside @sparticuz/chromium
// (an npm devDependency), so `npm ci && npm test` needs no apt-get and no root.
import { existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const SYSTEM_CHROMIUM = "/usr/bin/chromium";

/**
 * Our flags, not @sparticuz's own `args`: those carry --single-process and
 * --disable-web-security, which break the multi-tab (Web Locks) and CORS tests.
 */
export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-zygote"];

/** @sparticuz unpacks into the temp dir; two processes unpacking at once would write one file together. */
const UNPACK_LOCK = join(tmpdir(), "waystation-chromium-unpack.lock");
const UNPACK_LOCK_STALE_MS = 180_000;

let npmChromium = null;

/**
 * Which Chromium to run: `CHROMIUM_PATH` if set, else `systemPath` when it exists, else the npm one.
 * `systemPath` is a parameter so a test can prove the fallback on a machine that has Chromium.
 */
export async function chromiumExecutable({ systemPath = SYSTEM_CHROMIUM } = {}) {
  const override = process.env.CHROMIUM_PATH;
  if (override) return { path: override, source: "CHROMIUM_PATH" };
  if (existsSync(systemPath)) return { path: systemPath, source: "system" };
  npmChromium ??= unpackNpmChromium().catch((error) => {
    npmChromium = null; // let a later call try again
    throw error;
  });
  return { path: await npmChromium, source: "npm" };
}

/** Headless Chromium with our flags; `options` are playwright's launch options. */
export async function launchChromium(options = {}) {
  const { path } = await chromiumExecutable();
  return chromium.launch({ headless: true, ...options, executablePath: path, args: [...CHROMIUM_ARGS, ...(options.args ?? [])] });
}

/** `executablePath()` unpacks once (to <tmp>/chromium) and then returns the unpacked file. */
async function unpackNpmChromium() {
  const { default: Chromium } = await import("@sparticuz/chromium");
  await acquireUnpackLock();
  try {
    return await Chromium.executablePath();
  } finally {
    rmSync(UNPACK_LOCK, { recursive: true, force: true });
  }
}

/** mkdir is atomic across processes; a lock older than any unpack is left from a crash. */
async function acquireUnpackLock() {
  for (;;) {
    try {
      mkdirSync(UNPACK_LOCK);
      return;
    } catch (error) {
      if (error?.code !== "EEXIST") throw error;
    }
    const ageMs = Date.now() - (statSync(UNPACK_LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    if (ageMs > UNPACK_LOCK_STALE_MS) rmSync(UNPACK_LOCK, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
