// Shows a message body or headers safely: JSON pretty-printed and lightly coloured, binary
// (`{"$binary": base64}`, shared/binary.ts) as its size and a hex preview, long text cut.
// Everything goes in as text nodes.
import { decodeBase64, isBinaryBody } from "../../shared/binary";
import { h } from "./dom";
import { formatBytes } from "./format";

/** Characters of pretty JSON shown before the rest is cut. */
const MAX_SHOWN_CHARS = 16_000;
/** Bytes of a binary body shown as hex. */
const HEX_PREVIEW_BYTES = 64;

export function renderBody(body: unknown): HTMLElement {
  if (isBinaryBody(body)) return renderBinary(body.$binary);
  const plain = JSON.stringify(body, binaryPlaceholders) ?? "null";
  // The compact layout re-measures each level; past this size plain indentation is cheaper.
  const text = plain.length > 100_000 ? JSON.stringify(JSON.parse(plain), null, 2) : prettyJson(JSON.parse(plain), "");
  const shown = text.length > MAX_SHOWN_CHARS ? text.slice(0, MAX_SHOWN_CHARS) : text;
  const pre = h("pre", { class: "json" });
  highlightJson(pre, shown);
  if (shown.length < text.length) pre.append(h("span", { class: "cut" }, `\n… ${text.length - shown.length} more characters`));
  return pre;
}

/** Nested binary values read as a short note instead of a wall of base64. */
function binaryPlaceholders(this: unknown, _key: string, value: unknown): unknown {
  if (isBinaryBody(value)) {
    const bytes = decodeBase64(value.$binary);
    return bytes ? `‹binary ${formatBytes(bytes.length)}›` : "‹binary, not valid base64›";
  }
  return value;
}

/** Widest a nested array or object may be to stay on one line. */
const INLINE_WIDTH = 72;

/** Pretty JSON that keeps short arrays and objects on one line, so a body reads at a glance. */
export function prettyJson(value: unknown, indent: string): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== "object") return flat;
  if (flat.length + indent.length <= INLINE_WIDTH) return inline(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((item) => inner + prettyJson(item, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${prettyJson(v, inner)}`).join(",\n")}\n${indent}}`;
}

function inline(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(inline).join(", ")}]`;
  const entries = Object.entries(value);
  return entries.length === 0 ? "{}" : `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`).join(", ")} }`;
}

function renderBinary(base64: string): HTMLElement {
  const bytes = decodeBase64(base64);
  if (!bytes) {
    return h("div", { class: "binary" }, h("span", { class: "badge warn" }, "binary · not valid base64"), h("pre", { class: "hex" }, base64.slice(0, 200)));
  }
  const preview = bytes.subarray(0, HEX_PREVIEW_BYTES);
  const rows: string[] = [];
  for (let i = 0; i < preview.length; i += 16) {
    const chunk = Array.from(preview.subarray(i, i + 16));
    const hex = chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ").padEnd(47, " ");
    const ascii = chunk.map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "·")).join("");
    rows.push(`${i.toString(16).padStart(4, "0")}  ${hex}  ${ascii}`);
  }
  if (bytes.length > preview.length) rows.push(`…  ${bytes.length - preview.length} more bytes`);
  return h(
    "div",
    { class: "binary" },
    h("span", { class: "badge" }, `binary · ${formatBytes(bytes.length)}`),
    h("pre", { class: "hex" }, rows.join("\n")),
  );
}

const TOKEN = /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;

function highlightJson(pre: HTMLElement, text: string): void {
  let at = 0;
  for (const match of text.matchAll(TOKEN)) {
    const index = match.index ?? 0;
    if (index > at) pre.append(text.slice(at, index));
    const [whole, string, colon, literal, number] = match;
    if (string !== undefined) {
      pre.append(h("span", { class: colon ? "j-key" : "j-str" }, string));
      if (colon) pre.append(colon);
    } else if (literal !== undefined) {
      pre.append(h("span", { class: "j-lit" }, literal));
    } else if (number !== undefined) {
      pre.append(h("span", { class: "j-num" }, number));
    }
    at = index + whole.length;
  }
  if (at < text.length) pre.append(text.slice(at));
}

/** Headers as a small two-column list. */
export function renderHeaders(headers: Record<string, string>): HTMLElement | null {
  const entries = Object.entries(headers);
  if (entries.length === 0) return null;
  return h("dl", { class: "headers" }, ...entries.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]));
}
