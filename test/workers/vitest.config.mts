// Integration tests inside workerd: the real Worker, real SQLite-backed Durable Objects.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
/** Signs scoped tokens in tests (test/workers/token-helpers.ts mints with it). */
export const TOKEN_SIGNING_KEY = "test-token-signing-key-0123456789abcdefghij";
export const ALLOWED_ORIGINS = "https://app.example, http://localhost:5173";
/** Seals webhook secrets at rest in tests (the workers suites read it back from env). */
export const WEBHOOK_SECRET_KEY = "test-webhook-secret-key-0123456789abcdefghij";
/** The key WEBHOOK_SECRET_KEY replaced: rows sealed under it still open (key rotation tests). */
export const WEBHOOK_SECRET_KEY_PREVIOUS = "test-webhook-secret-key-previous-0123456789";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: { bindings: { ADMIN_TOKEN, TOKEN_SIGNING_KEY, ALLOWED_ORIGINS, WEBHOOK_ALLOW_PRIVATE: "1", WEBHOOK_SECRET_KEY, WEBHOOK_SECRET_KEY_PREVIOUS } },
    }),
  ],
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/workers/**/*.test.ts"],
    // A test's first request may start workerd's isolate and the station's SQLite cold: on a
    // 2-core machine under load that alone has taken over 5 s (vitest's default), with no assertion
    // involved. The bound stays a bound: a hung test still fails.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
