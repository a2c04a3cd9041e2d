// An esbuild plugin for the SDK bundle: makes the schema definitions of shared/ droppable when a
// bundle does not use them. Valibot declares its functions free of side effects, but esbuild
// honours that only within one module (evanw/esbuild#4369), and it keeps any expression holding a
// template literal with a substitution (`At most ${MAX} headers`: toString could run code). So:
// valibot calls and intInRange() are marked pure, and such template literals become pure calls.
import { readFile } from "node:fs/promises";

const CALL = /(?<![\w.$]|function )(v\.\w+|intInRange)\(/g;
/** One-line template literals whose substitutions are plain identifiers. */
const TEMPLATE = /`((?:[^`\\\n$]|\\.|\$(?!\{))*\$\{\w+\}(?:[^`\\\n]|\\.)*)`/g;

export function markPure(source) {
  return source
    .replace(TEMPLATE, (whole, body) => {
      const names = [...new Set([...body.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))];
      if (names.some((n) => /^\d/.test(n))) return whole;
      return `/* @__PURE__ */ ((${names.join(", ")}) => ${whole})(${names.join(", ")})`;
    })
    .replace(CALL, "/* @__PURE__ */ $1(");
}

export const pureValibot = {
  name: "pure-valibot",
  setup(build) {
    build.onLoad({ filter: /[\\/]shared[\\/][^\\/]+\.ts$/ }, async (args) => ({ contents: markPure(await readFile(args.path, "utf8")), loader: "ts" }));
  },
};
