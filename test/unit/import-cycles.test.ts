// Fails on any import cycle among client/, worker/ and shared/: a cycle through a type-only
// import counts too, since it still ties the modules' meaning together.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const folders = ["client", "worker", "shared"];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "node_modules") out.push(...sourceFiles(path));
    } else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith(".d.ts")) {
      out.push(path);
    }
  }
  return out;
}

// `import … from "x"`, `import type … from "x"`, `export … from "x"`, `import "x"`, `import("x")`.
const SPECIFIER = /(?:\b(?:import|export)\b[^;"'`]*?\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

export function specifiersOf(source: string): string[] {
  const withoutComments = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
  return [...withoutComments.matchAll(SPECIFIER)].map((match) => match[1]);
}

function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = resolve(dirname(from), specifier);
  const stem = base.replace(/\.(js|mjs)$/, "");
  const candidates = [base, `${stem}.ts`, `${stem}.mts`, `${base}.ts`, `${base}.mts`, `${base}.mjs`, join(base, "index.ts")];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile());
}

export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const targets = specifiersOf(readFileSync(file, "utf8"))
      .map((specifier) => resolveRelative(file, specifier))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

// Tarjan's strongly connected components: every component of more than one module (or a module
// importing itself) is a cycle.
export function cyclesOf(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next++;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || (graph.get(node) ?? []).includes(node)) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components;
}

describe("import cycles", () => {
  it("finds none in client/, worker/ or shared/", () => {
    const files = folders.flatMap((folder) => sourceFiles(join(root, folder)));
    const graph = importGraph(files);
    expect(graph.size).toBeGreaterThan(50);
    const cycles = cyclesOf(graph).map((component) => component.map((file) => relative(root, file)));
    expect(cycles, `Import cycles (each line one group of modules that reach each other):\n${cycles.map((c) => c.join(" ↔ ")).join("\n")}`).toEqual([]);
  });

  it("reads type-only imports and re-exports, and sees a cycle through them", () => {
    expect(
      specifiersOf(
        `import type { A } from "./a";\nimport {\n  B,\n} from "../b.ts";\nexport * from "./c";\nexport { D } from './d';\n// import { E } from "./e";\nimport "./f";\nconst g = await import("./g");`,
      ),
    ).toEqual(["./a", "../b.ts", "./c", "./d", "./f", "./g"]);
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cyclesOf(graph)).toEqual([["a", "b", "c"]]);
    expect(cyclesOf(new Map([["a", ["b"]], ["b", []]]))).toEqual([]);
  });
});
