// Schema evolution rules for Avro versions, by Avro's own schema resolution (can-read.ts) in the
// directions Confluent's registry uses: backward = data written with the previous version read with
// the new one (reader new, writer previous); forward = the reverse; full = both. Each break is named
// as the change from the previous version to the new one, with the rules JSON Schema versions use.
import { type Compatibility, type CompatibilityBreak, CompatibilityRule } from "../../../shared/schemas";
import { type ReadBreak, type ReadBreakKind, readBreaks } from "./can-read";
import type { AvroType } from "./types";

type Direction = "backward" | "forward";

const RULE_BY_KIND: Record<ReadBreakKind, Record<Direction, CompatibilityRule>> = {
  field_missing: { backward: CompatibilityRule.RequiredAdded, forward: CompatibilityRule.RequiredRemoved },
  type: { backward: CompatibilityRule.TypeNarrowed, forward: CompatibilityRule.TypeWidened },
  enum_symbol: { backward: CompatibilityRule.EnumShrunk, forward: CompatibilityRule.EnumGrown },
  too_complex: { backward: CompatibilityRule.Undecidable, forward: CompatibilityRule.Undecidable },
};

const LOSS_BY_DIRECTION: Record<Direction, string> = {
  backward: "data written with the previous version can't be read with the new one",
  forward: "data written with the new version can't be read with the previous one",
};

/**
 * Where `next` breaks the rule when it follows `previous`, at most `limit` places (empty: it may).
 *
 * @example avroCompatibilityBreaks(v1, v2WithFieldEmail, "backward")
 *   // → [{path: "/email", rule: "required_added", message: '… field "email" added without a default'}]
 */
export function avroCompatibilityBreaks(previous: AvroType, next: AvroType, compatibility: Compatibility, limit = 20): CompatibilityBreak[] {
  const breaks: CompatibilityBreak[] = [];
  const seen = new Set<string>();
  const add = (found: ReadBreak[], direction: Direction) => {
    for (const item of found) {
      const rule = RULE_BY_KIND[item.kind][direction];
      const id = `${item.path} ${rule}`;
      if (seen.has(id) || breaks.length >= limit) continue;
      seen.add(id);
      breaks.push({ path: item.path, rule, message: `${LOSS_BY_DIRECTION[direction]}: ${wording(item, direction)}` });
    }
  };
  if (compatibility === "backward" || compatibility === "full") add(readBreaks(next, previous, limit), "backward");
  if (compatibility === "forward" || compatibility === "full") add(readBreaks(previous, next, limit), "forward");
  return breaks;
}

/** The break said as the change from the previous version to the new one. */
function wording(item: ReadBreak, direction: Direction): string {
  if (item.kind === "field_missing") {
    return direction === "backward" ? `${item.place} added without a default` : `${item.place} removed, and the previous version has no default for it`;
  }
  const at = item.place ? `${item.place}: ` : "";
  if (item.kind === "enum_symbol") {
    const symbols = item.symbols!.slice(0, 5).map((symbol) => JSON.stringify(symbol)).join(", ") + (item.symbols!.length > 5 ? ` and ${item.symbols!.length - 5} more` : "");
    const plural = item.symbols!.length > 1 ? "s" : "";
    return direction === "backward"
      ? `${at}symbol${plural} ${symbols} removed from enum ${item.enumName}, which has no default`
      : `${at}symbol${plural} ${symbols} added to enum ${item.enumName}, which has no default in the previous version`;
  }
  return `${at}${item.reason}`;
}
