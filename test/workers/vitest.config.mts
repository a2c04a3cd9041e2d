// Integration tests inside workerd: the real Worker, real SQLite-backed Durable Objects.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
/** Signs scoped tokens in tests (test/workers/token-helpers.ts mints with it). */
export const TOKEN_SIGNING_KEY = "test-token-signing-key-0123456789abcdefghij";
export const ALLOWED_ORIGINS = "https://app.example, http://localhost:5173";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: { bindings: { ADMIN_TOKEN, TOKEN_SIGNING_KEY, ALLOWED_ORIGINS, WEBHOOK_ALLOW_PRIVATE: "1" } },
    }),
  ],
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/workers/**/*.test.ts"],
  },
});
