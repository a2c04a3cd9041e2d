// An esbuild plugin for the SDK bundle: marks the schema-building calls of shared/ (valibot's, and
// shared/numbers.ts's intInRange) as pure, so schemas the SDK never uses are dropped. Valibot
// declares its functions free of side effects, but esbuild honours that only within one module
// (evanw/esbuild#4369).
import { readFile } from "node:fs/promises";

export const pureValibot = {
  name: "pure-valibot",
  setup(build) {
    build.onLoad({ filter: /[\\/]shared[\\/][^\\/]+\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      return { contents: source.replace(/(?<![\w.$]|function )(v\.\w+|intInRange)\(/g, "/* @__PURE__ */ $1("), loader: "ts" };
    });
  },
};
