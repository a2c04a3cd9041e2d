// Types of browser-launch.mjs (plain JavaScript so the .mjs benchmarks import it too).
import type { Browser, LaunchOptions } from "playwright-core";

export declare const SYSTEM_CHROMIUM: string;
export declare const CHROMIUM_ARGS: readonly string[];

export interface ChromiumExecutable {
  path: string;
  source: "CHROMIUM_PATH" | "system" | "npm";
}

export declare function chromiumExecutable(options?: { systemPath?: string }): Promise<ChromiumExecutable>;
export declare function launchChromium(options?: LaunchOptions): Promise<Browser>;
