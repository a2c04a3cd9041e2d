// Integration tests inside workerd: the real Worker, real SQLite-backed Durable Objects.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)) },
      miniflare: { bindings: { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: "1" } },
    }),
  ],
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/workers/**/*.test.ts"],
  },
});
