// A strict parser of the Prometheus text exposition format (0.0.4) for tests: it refuses
// anything a scraper could choke on — samples before their TYPE, a family split in two
// blocks, repeated series, bad names, bad escapes, bad numbers — rather than guessing.

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help: string | null;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], summary: ["_sum", "_count", ""] };

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("Exposition must end with a line feed");
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: ParsedFamily | null = null;
  const open = (name: string): ParsedFamily => {
    if (current?.name === name) return current;
    if (current) closed.add(current.name);
    if (closed.has(name)) throw new Error(`Family ${name} appears in two blocks`);
    const family: ParsedFamily = families.get(name) ?? { name, type: "untyped", help: null, samples: [] };
    families.set(name, family);
    current = family;
    return family;
  };
  text.split("\n").slice(0, -1).forEach((line, index) => {
    const where = `line ${index + 1}: ${line}`;
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const match = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!match) return; // a plain comment
      const [, keyword, name, rest] = match as unknown as [string, string, string, string];
      if (!METRIC_NAME.test(name)) throw new Error(`Invalid metric name (${where})`);
      const family = open(name);
      if (keyword === "HELP") {
        if (family.help !== null) throw new Error(`Second HELP (${where})`);
        family.help = unescapeText(rest, false, where);
      } else {
        if (!TYPES.has(rest)) throw new Error(`Unknown type (${where})`);
        if (family.samples.length > 0 || family.type !== "untyped" || (family as { typed?: boolean }).typed) {
          throw new Error(`TYPE after samples or twice (${where})`);
        }
        family.type = rest;
        (family as { typed?: boolean }).typed = true;
      }
      return;
    }
    const sample = parseSampleLine(line, where);
    const familyName = familyOf(sample.name, current);
    const family = open(familyName);
    if (family.type === "counter" && sample.name !== family.name) throw new Error(`Counter sample ${sample.name} outside its family (${where})`);
    if (family.type === "counter" && !(sample.value >= 0)) throw new Error(`Negative or NaN counter (${where})`);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (series.has(key)) throw new Error(`Repeated series (${where})`);
    series.add(key);
    family.samples.push(sample);
  });
  return families;
}

function familyOf(sampleName: string, current: ParsedFamily | null): string {
  if (current && current.name !== sampleName) {
    for (const suffix of SUFFIXES[current.type] ?? []) if (sampleName === current.name + suffix) return current.name;
  }
  return sampleName;
}

function parseSampleLine(line: string, where: string): ParsedSample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`Invalid sample name (${where})`);
  const name = nameMatch[0];
  let at = name.length;
  const labels: Record<string, string> = {};
  if (line[at] === "{") {
    at += 1;
    while (line[at] !== "}") {
      const labelMatch = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(at));
      if (!labelMatch) throw new Error(`Invalid label at ${at} (${where})`);
      const labelName = labelMatch[1]!;
      if (!LABEL_NAME.test(labelName) || labelName.startsWith("__")) throw new Error(`Invalid label name (${where})`);
      if (labelName in labels) throw new Error(`Repeated label ${labelName} (${where})`);
      at += labelMatch[0].length;
      let raw = "";
      while (line[at] !== '"') {
        if (at >= line.length) throw new Error(`Unterminated label value (${where})`);
        if (line[at] === "\\") {
          raw += line.slice(at, at + 2);
          at += 2;
        } else {
          raw += line[at];
          at += 1;
        }
      }
      labels[labelName] = unescapeText(raw, true, where);
      at += 1;
      if (line[at] === ",") at += 1;
      else if (line[at] !== "}") throw new Error(`Expected , or } at ${at} (${where})`);
    }
    at += 1;
  }
  if (line[at] !== " ") throw new Error(`Expected one space before the value (${where})`);
  const parts = line.slice(at + 1).split(" ");
  if (parts.length > 2 || parts[0] === "") throw new Error(`Expected value [timestamp] (${where})`);
  return { name, labels, value: parseValue(parts[0]!, where) };
}

function parseValue(text: string, where: string): number {
  if (text === "NaN") return NaN;
  if (text === "+Inf" || text === "Inf") return Infinity;
  if (text === "-Inf") return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`Invalid value ${text} (${where})`);
  return Number(text);
}

function unescapeText(raw: string, quoteAllowed: boolean, where: string): string {
  return raw.replace(/\\(.)?/g, (_, next: string | undefined) => {
    if (next === "\\") return "\\";
    if (next === "n") return "\n";
    if (next === '"' && quoteAllowed) return '"';
    throw new Error(`Invalid escape \\${next ?? ""} (${where})`);
  });
}
