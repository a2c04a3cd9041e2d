// The bare-machine path of the browser tests: with no /usr/bin/chromium, Chromium comes from the
// npm package @sparticuz/chromium, and the browser every suite launches is that binary.
import { accessSync, constants, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, chromiumExecutable, launchChromium, SYSTEM_CHROMIUM } from "../browser-launch.mjs";

describe("choosing Chromium", () => {
  let savedOverride: string | undefined;
  beforeEach(() => {
    savedOverride = process.env.CHROMIUM_PATH;
    delete process.env.CHROMIUM_PATH;
  });
  afterEach(() => {
    if (savedOverride !== undefined) process.env.CHROMIUM_PATH = savedOverride;
  });

  it("takes the Chromium inside the npm package when the system has none", async () => {
    const chosen = await chromiumExecutable({ systemPath: "/nonexistent/usr/bin/chromium" });
    expect(chosen.source).toBe("npm");
    expect(chosen.path).not.toBe(SYSTEM_CHROMIUM);
    accessSync(chosen.path, constants.X_OK);
  });

  it("takes the system's Chromium when there is one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waystation-fake-chromium-"));
    try {
      const fake = join(dir, "chromium");
      writeFileSync(fake, "");
      expect(await chromiumExecutable({ systemPath: fake })).toEqual({ path: fake, source: "system" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps the multi-tab and CORS checks: none of @sparticuz's serverless flags", () => {
    expect(CHROMIUM_ARGS).not.toContain("--single-process");
    expect(CHROMIUM_ARGS).not.toContain("--disable-web-security");
  });
});

describe("the browser the suites launch", () => {
  it("runs the chosen binary: the npm one on a machine without /usr/bin/chromium", async () => {
    // --enable-automation lets the DevTools protocol tell the browser's own command line.
    const browser = await launchChromium({ args: ["--enable-automation"] });
    try {
      const session = await browser.newBrowserCDPSession();
      const { arguments: argv } = (await session.send("Browser.getBrowserCommandLine")) as { arguments: string[] };
      const chosen = await chromiumExecutable();
      expect(argv[0]).toBe(chosen.path);
      if (!process.env.CHROMIUM_PATH && !existsSync(SYSTEM_CHROMIUM)) {
        expect(chosen.source).toBe("npm");
        expect(argv[0]).toBe((await chromiumExecutable({ systemPath: "/nonexistent/usr/bin/chromium" })).path);
      }
      expect(argv).toContain("--no-zygote");
      expect(argv).not.toContain("--single-process");
    } finally {
      await browser.close();
    }
  });
});
