// Schema evolution rules: whether a new JSON Schema version may follow the latest one under a
// schema's `compatibility` (none, backward, forward, full), and if not, what breaks. Pure: no I/O.
// What it cannot decide it refuses (rule `undecidable`): a wrong "yes" would let data through.
import { type Compatibility, type CompatibilityBreak, CompatibilityRule } from "../../shared/schemas";
import { canonicalJson } from "./canonical-json";

/**
 * Where `next` breaks the rule when it follows `previous`, at most `limit` places (empty: it may).
 * - backward: every value `previous` accepts, `next` accepts too (consumers on `next` read old data);
 * - forward: every value `next` accepts, `previous` accepts too (consumers still on `previous` read new data);
 * - full: both.
 *
 * @example compatibilityBreaks({type: "object"}, {type: "object", required: ["a"]}, "backward")
 *   // → [{path: "/required", rule: "required_added", message: "…"}]
 */
export function compatibilityBreaks(previous: unknown, next: unknown, compatibility: Compatibility, limit = 20): CompatibilityBreak[] {
  const breaks: CompatibilityBreak[] = [];
  const seen = new Set<string>();
  const add = (found: CompatibilityBreak[]) => {
    for (const item of found) {
      const id = `${item.path} ${item.rule}`;
      if (!seen.has(id) && breaks.length < limit) {
        seen.add(id);
        breaks.push(item);
      }
    }
  };
  if (compatibility === "backward" || compatibility === "full") add(narrowings(previous, next, "backward"));
  if (compatibility === "forward" || compatibility === "full") add(narrowings(next, previous, "forward"));
  return breaks;
}

type Direction = "backward" | "forward";
type Kind = "required" | "type" | "enum" | "const" | "additionalProperties" | "bound" | "pattern" | "format" | "uniqueItems" | "undecidable";

/** A narrowing found walking (wider → narrower), named as the change from the old version to the new. */
const RULE_BY_KIND: Record<Kind, Record<Direction, CompatibilityRule>> = {
  required: { backward: CompatibilityRule.RequiredAdded, forward: CompatibilityRule.RequiredRemoved },
  type: { backward: CompatibilityRule.TypeNarrowed, forward: CompatibilityRule.TypeWidened },
  enum: { backward: CompatibilityRule.EnumShrunk, forward: CompatibilityRule.EnumGrown },
  const: { backward: CompatibilityRule.ConstChanged, forward: CompatibilityRule.ConstChanged },
  additionalProperties: { backward: CompatibilityRule.AdditionalPropertiesTightened, forward: CompatibilityRule.AdditionalPropertiesLoosened },
  bound: { backward: CompatibilityRule.BoundTightened, forward: CompatibilityRule.BoundLoosened },
  pattern: { backward: CompatibilityRule.PatternChanged, forward: CompatibilityRule.PatternChanged },
  format: { backward: CompatibilityRule.FormatChanged, forward: CompatibilityRule.FormatChanged },
  uniqueItems: { backward: CompatibilityRule.UniqueItemsAdded, forward: CompatibilityRule.UniqueItemsRemoved },
  undecidable: { backward: CompatibilityRule.Undecidable, forward: CompatibilityRule.Undecidable },
};

/** Keywords that only annotate: they never change which values a schema accepts. */
const ANNOTATIONS = new Set([
  "$schema", "$id", "$anchor", "$comment", "$vocabulary", "title", "description", "default", "examples",
  "deprecated", "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "contentSchema", "$defs", "definitions",
]);
/** Keywords the walker compares itself. */
const HANDLED = new Set([
  "type", "enum", "const", "required", "properties", "additionalProperties", "items", "pattern", "format", "uniqueItems",
  "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
  "minProperties", "maxProperties", "multipleOf",
]);
/** Keywords that only add a condition (all must hold): dropping one can only accept more. */
const CONJUNCTIVE = new Set(["allOf", "anyOf", "oneOf", "not", "if", "then", "else", "dependentSchemas", "dependentRequired", "propertyNames", "contains", "minContains", "maxContains"]);
/** Pairs of [lower, upper] bound keywords that are counts (inclusive integers). */
const COUNT_BOUNDS: ReadonlyArray<[string, string]> = [["minLength", "maxLength"], ["minItems", "maxItems"], ["minProperties", "maxProperties"]];
const REFERENCES = ["$ref", "$dynamicRef", "$recursiveRef", "$dynamicAnchor", "$recursiveAnchor"];
const ALL_TYPES = ["null", "boolean", "object", "array", "number", "string"] as const;

type Schema = Record<string, unknown>;

interface Walk {
  direction: Direction;
  /** The root `$defs`/`definitions` are the same in both: an identical `$ref` means the same thing. */
  sameDefinitions: boolean;
  found: CompatibilityBreak[];
}

/** Places where `narrower` accepts less than `wider` (as far as can be decided). */
function narrowings(wider: unknown, narrower: unknown, direction: Direction): CompatibilityBreak[] {
  const walk: Walk = { direction, sameDefinitions: sameDefinitionsOf(wider, narrower), found: [] };
  compare(walk, wider, narrower, "");
  return walk.found;
}

/** What the rule protects, before the detail: which data would now be refused. */
const LOSS_BY_DIRECTION: Record<Direction, string> = {
  backward: "data valid under the previous version fails the new one",
  forward: "data valid under the new version fails the previous one",
};

function report(walk: Walk, kind: Kind, path: string, detail: string): void {
  walk.found.push({ path, rule: RULE_BY_KIND[kind][walk.direction], message: `${LOSS_BY_DIRECTION[walk.direction]}: ${detail}` });
}

/** The schema as an object: `true` is `{}`, `false` is `{not: {}}`, handled by the caller. */
function asObject(schema: unknown): Schema {
  return typeof schema === "object" && schema !== null && !Array.isArray(schema) ? (schema as Schema) : {};
}

function compare(walk: Walk, wider: unknown, narrower: unknown, path: string): void {
  if (wider === false || canonicalJson(wider) === canonicalJson(narrower)) return;
  if (narrower === false) {
    report(walk, "type", path, "accepts no value at all here");
    return;
  }
  const a = asObject(wider);
  const b = asObject(narrower);
  if (compareReferences(walk, a, b, path)) return;
  compareOthers(walk, a, b, path);
  compareTypes(walk, a, b, path);
  compareValues(walk, a, b, path);
  compareRequired(walk, a, b, path);
  compareProperties(walk, a, b, path);
  compareItems(walk, a, b, path);
  compareBounds(walk, a, b, path);
  compareStrings(walk, a, b, path);
}

/** `$ref` and friends: equal references to equal definitions are fine; anything else can't be decided. Returns true when it reported. */
function compareReferences(walk: Walk, a: Schema, b: Schema, path: string): boolean {
  for (const keyword of REFERENCES) {
    if (!(keyword in a) && !(keyword in b)) continue;
    if (a[keyword] !== b[keyword] || !walk.sameDefinitions) {
      report(walk, "undecidable", `${path}/${keyword}`, `${keyword} differs, or points into changed definitions: the change can't be checked, so it is refused`);
      return true;
    }
  }
  return false;
}

/** Keywords the walker does not model: the same on both sides is fine, dropped conjunctions only widen, else undecidable. */
function compareOthers(walk: Walk, a: Schema, b: Schema, path: string): void {
  const keywords = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const keyword of keywords) {
    if (ANNOTATIONS.has(keyword) || HANDLED.has(keyword) || REFERENCES.includes(keyword)) continue;
    const inA = keyword in a;
    const inB = keyword in b;
    if (inA && inB && canonicalJson(a[keyword]) === canonicalJson(b[keyword])) {
      // unevaluated*: what counts as evaluated depends on every sibling; any sibling change is undecidable.
      if (keyword.startsWith("unevaluated") && canonicalJson(a) !== canonicalJson(b)) {
        report(walk, "undecidable", `${path}/${keyword}`, `${keyword} depends on the keywords beside it, which changed: the change can't be checked, so it is refused`);
      }
      continue;
    }
    if (inA && !inB && CONJUNCTIVE.has(keyword)) continue;
    report(walk, "undecidable", `${path}/${keyword}`, `${keyword} was added, removed or changed: whether it accepts the same values can't be decided, so it is refused`);
  }
}

/** The JSON types a schema allows (`integer` apart from `number`), or null for any. */
function typesOf(schema: Schema): Set<string> | null {
  const type = schema.type;
  if (type === undefined) return null;
  return new Set(Array.isArray(type) ? (type as string[]) : [type as string]);
}

function allows(types: Set<string> | null, type: string): boolean {
  return types === null || types.has(type) || (type === "integer" && types.has("number"));
}

function compareTypes(walk: Walk, a: Schema, b: Schema, path: string): void {
  const to = typesOf(b);
  if (to === null) return;
  const from = typesOf(a);
  // With `const`/`enum` the wider side is a finite list: its values' types are what matters.
  if (from === null && ("const" in a || Array.isArray(a.enum))) {
    const values = "const" in a ? [a.const] : (a.enum as unknown[]);
    const lost = values.filter((value) => !allows(to, jsonType(value)));
    if (lost.length > 0) report(walk, "type", `${path}/type`, `type ${[...to].join(" | ")} leaves out ${canonicalJson(lost[0])}`);
    return;
  }
  const lost = from === null ? [...ALL_TYPES] : [...from].filter((type) => !allows(to, type));
  if (lost.length > 0) report(walk, "type", `${path}/type`, `type ${[...to].join(" | ")} does not take ${lost.join(", ")}`);
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

/** `const` and `enum`: the narrower list must hold every value of the wider one. */
function compareValues(walk: Walk, a: Schema, b: Schema, path: string): void {
  const from = "const" in a ? [a.const] : Array.isArray(a.enum) ? (a.enum as unknown[]) : null;
  if ("const" in b) {
    const kept = canonicalJson(b.const);
    if (from === null || from.some((value) => canonicalJson(value) !== kept)) {
      report(walk, "const", `${path}/const`, from === null ? `const ${kept} takes one value only` : `const ${kept} differs`);
    }
  }
  if (Array.isArray(b.enum)) {
    const kept = new Set((b.enum as unknown[]).map(canonicalJson));
    const lost = from === null ? null : from.filter((value) => !kept.has(canonicalJson(value)));
    if (lost === null) report(walk, "enum", `${path}/enum`, "an enum takes only its values");
    else if (lost.length > 0) report(walk, "enum", `${path}/enum`, `enum does not hold ${lost.map(canonicalJson).join(", ")}`);
  }
}

function compareRequired(walk: Walk, a: Schema, b: Schema, path: string): void {
  const had = new Set(Array.isArray(a.required) ? (a.required as string[]) : []);
  const added = (Array.isArray(b.required) ? (b.required as string[]) : []).filter((name) => !had.has(name));
  if (added.length === 0) return;
  const names = added.map((name) => JSON.stringify(name)).join(", ");
  report(walk, "required", `${path}/required`, walk.direction === "backward" ? `required ${names} added` : `${names} no longer required`);
}

/** Each property's schema on both sides (a property absent from `properties` falls under `additionalProperties`). */
function compareProperties(walk: Walk, a: Schema, b: Schema, path: string): void {
  const propsA = asObject(a.properties);
  const propsB = asObject(b.properties);
  const extraA = a.additionalProperties ?? true;
  const extraB = b.additionalProperties ?? true;
  const hasPatterns = "patternProperties" in a || "patternProperties" in b;
  for (const name of new Set([...Object.keys(propsA), ...Object.keys(propsB)])) {
    const inA = Object.prototype.hasOwnProperty.call(propsA, name);
    const inB = Object.prototype.hasOwnProperty.call(propsB, name);
    const where = `${path}/properties/${escapePointer(name)}`;
    if (!inA || !inB) {
      // Its schema on the other side comes from patternProperties or additionalProperties.
      if (hasPatterns) {
        report(walk, "undecidable", where, `property ${JSON.stringify(name)} moved between properties and patternProperties: can't be checked, so it is refused`);
        continue;
      }
      if (!inB && extraB === false) {
        report(walk, "additionalProperties", where, `property ${JSON.stringify(name)} is not allowed (additionalProperties is false)`);
        continue;
      }
    }
    compare(walk, inA ? propsA[name] : extraA, inB ? propsB[name] : extraB, where);
  }
  if (canonicalJson(extraA) === canonicalJson(extraB)) return;
  if (extraB === false && extraA !== false) {
    report(walk, "additionalProperties", `${path}/additionalProperties`, "additionalProperties is false: properties not listed are refused");
    return;
  }
  compare(walk, extraA, extraB, `${path}/additionalProperties`);
}

function compareItems(walk: Walk, a: Schema, b: Schema, path: string): void {
  if (b.uniqueItems === true && a.uniqueItems !== true) report(walk, "uniqueItems", `${path}/uniqueItems`, "items must be unique");
  if (!("items" in a) && !("items" in b)) return;
  // Tuples (2019-09 `items: [...]`) line up with `additionalItems`: not modelled.
  if (Array.isArray(a.items) || Array.isArray(b.items) || "prefixItems" in a || "prefixItems" in b) {
    if (canonicalJson(a.items) !== canonicalJson(b.items)) report(walk, "undecidable", `${path}/items`, "tuple items changed: can't be checked, so it is refused");
    return;
  }
  compare(walk, a.items ?? true, b.items ?? true, `${path}/items`);
}

/** Numeric and count bounds: the narrower side may not start higher or end lower. */
function compareBounds(walk: Walk, a: Schema, b: Schema, path: string): void {
  const lowA = lowerBound(a);
  const lowB = lowerBound(b);
  if (lowB && (!lowA || lowB.value > lowA.value || (lowB.value === lowA.value && lowB.exclusive && !lowA.exclusive))) {
    report(walk, "bound", `${path}/${lowB.keyword}`, `${lowB.keyword} ${lowB.value} takes fewer numbers than ${lowA ? `${lowA.keyword} ${lowA.value}` : "no lower bound"}`);
  }
  const highA = upperBound(a);
  const highB = upperBound(b);
  if (highB && (!highA || highB.value < highA.value || (highB.value === highA.value && highB.exclusive && !highA.exclusive))) {
    report(walk, "bound", `${path}/${highB.keyword}`, `${highB.keyword} ${highB.value} takes fewer numbers than ${highA ? `${highA.keyword} ${highA.value}` : "no upper bound"}`);
  }
  for (const [min, max] of COUNT_BOUNDS) {
    const minA = typeof a[min] === "number" ? (a[min] as number) : 0;
    if (typeof b[min] === "number" && (b[min] as number) > minA) report(walk, "bound", `${path}/${min}`, `${min} ${b[min]} is above ${minA}`);
    const maxA = typeof a[max] === "number" ? (a[max] as number) : Infinity;
    if (typeof b[max] === "number" && (b[max] as number) < maxA) report(walk, "bound", `${path}/${max}`, `${max} ${b[max]} is below ${maxA}`);
  }
  if (typeof b.multipleOf === "number") {
    const ratio = typeof a.multipleOf === "number" ? a.multipleOf / b.multipleOf : NaN;
    if (!Number.isInteger(ratio)) report(walk, "bound", `${path}/multipleOf`, `multipleOf ${b.multipleOf} does not divide ${a.multipleOf ?? "every number"}`);
  }
}

interface Bound {
  keyword: string;
  value: number;
  exclusive: boolean;
}

function lowerBound(schema: Schema): Bound | null {
  const inclusive = typeof schema.minimum === "number" ? schema.minimum : -Infinity;
  const exclusive = typeof schema.exclusiveMinimum === "number" ? schema.exclusiveMinimum : -Infinity;
  if (inclusive === -Infinity && exclusive === -Infinity) return null;
  return exclusive >= inclusive ? { keyword: "exclusiveMinimum", value: exclusive, exclusive: true } : { keyword: "minimum", value: inclusive, exclusive: false };
}

function upperBound(schema: Schema): Bound | null {
  const inclusive = typeof schema.maximum === "number" ? schema.maximum : Infinity;
  const exclusive = typeof schema.exclusiveMaximum === "number" ? schema.exclusiveMaximum : Infinity;
  if (inclusive === Infinity && exclusive === Infinity) return null;
  return exclusive <= inclusive ? { keyword: "exclusiveMaximum", value: exclusive, exclusive: true } : { keyword: "maximum", value: inclusive, exclusive: false };
}

/** `pattern` and `format`: whether one regular expression takes all another takes can't be decided; any new or changed one is refused. */
function compareStrings(walk: Walk, a: Schema, b: Schema, path: string): void {
  if ("pattern" in b && a.pattern !== b.pattern) {
    report(walk, "pattern", `${path}/pattern`, `pattern ${JSON.stringify(b.pattern)} differs from ${"pattern" in a ? JSON.stringify(a.pattern) : "none"} (which strings two patterns share can't be decided)`);
  }
  if ("format" in b && a.format !== b.format) report(walk, "format", `${path}/format`, `format ${JSON.stringify(b.format)} differs from ${"format" in a ? JSON.stringify(a.format) : "none"}`);
}

function sameDefinitionsOf(a: unknown, b: unknown): boolean {
  const x = asObject(a);
  const y = asObject(b);
  return canonicalJson(x.$defs ?? null) === canonicalJson(y.$defs ?? null) && canonicalJson(x.definitions ?? null) === canonicalJson(y.definitions ?? null);
}

function escapePointer(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}
