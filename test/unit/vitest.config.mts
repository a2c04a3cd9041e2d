// Fast unit tests in Node: pure shared/ modules, and the SDK on fake-indexeddb with msw faults.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    root: fileURLToPath(new URL("../..", import.meta.url)),
    include: ["test/unit/**/*.test.ts"],
    environment: "node",
  },
});
