// Form helpers shared by the station and webhook editors: labelled fields keyed by the body
// path the API names in `issues`, raw values kept as typed (so the schema, not the form,
// decides what is wrong), and issue messages shown beside their field.
import type { Issue } from "./api";
import { h } from "./dom";

export interface Field {
  path: string;
  el: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  message: HTMLElement;
}

export function textField(path: string, label: string, opts: { value?: string; hint?: string; placeholder?: string; numeric?: boolean; type?: string } = {}): Field {
  const id = `f-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const input = h("input", {
    id,
    name: path,
    type: opts.type ?? "text",
    inputmode: opts.numeric ? "numeric" : null,
    value: opts.value ?? "",
    placeholder: opts.placeholder ?? "",
    autocomplete: "off",
    spellcheck: "false",
  });
  return wrap(path, label, input, opts.hint);
}

export function checkField(path: string, label: string, checked: boolean, hint?: string): Field {
  const id = `f-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const input = h("input", { id, name: path, type: "checkbox", checked });
  const message = h("div", { class: "field-error" });
  const el = h("div", { class: "field check-field", "data-path": path }, h("label", { for: id, class: "check" }, input, label), hint ? h("div", { class: "hint" }, hint) : null, message);
  return { path, el, input, message };
}

export function selectField(path: string, label: string, options: Array<[string, string]>, value: string, hint?: string): Field {
  const id = `f-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const input = h("select", { id, name: path }, ...options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return wrap(path, label, input, hint);
}

export function textAreaField(path: string, label: string, value: string, hint?: string, rows = 6): Field {
  const id = `f-${path.replace(/[^a-zA-Z0-9]+/g, "-")}`;
  const input = h("textarea", { id, name: path, rows: String(rows), spellcheck: "false", class: "mono" });
  input.value = value;
  return wrap(path, label, input, hint);
}

function wrap(path: string, label: string, input: Field["input"], hint?: string): Field {
  const message = h("div", { class: "field-error" });
  const el = h("div", { class: "field", "data-path": path }, h("label", { for: input.id }, label), input, hint ? h("div", { class: "hint" }, hint) : null, message);
  return { path, el, input, message };
}

/** A number as typed: digits become a number, empty means "leave out", anything else stays text for the schema to refuse. */
export function rawNumber(text: string): number | string | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** Puts each issue's message under the field whose path it names (or the closest parent). */
export function showIssues(fields: Field[], issues: Issue[]): void {
  for (const f of fields) {
    f.message.textContent = "";
    f.el.classList.remove("invalid");
  }
  for (const issue of issues) {
    const field = fields.find((f) => f.path === issue.path) ?? fields.find((f) => issue.path.startsWith(`${f.path}.`));
    if (!field) continue;
    field.el.classList.add("invalid");
    field.message.textContent = field.message.textContent ? `${field.message.textContent}; ${issue.message}` : issue.message;
  }
}

/** Sets `value` at a dotted path, creating objects on the way; undefined deletes the key. */
export function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const child = node[key];
    if (typeof child !== "object" || child === null || Array.isArray(child)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  const lastKey = keys.at(-1)!;
  if (value === undefined) delete node[lastKey];
  else node[lastKey] = value;
}

export function getPath(source: unknown, path: string): unknown {
  let node = source;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
