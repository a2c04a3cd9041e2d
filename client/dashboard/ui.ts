// Small shared pieces of the dashboard: error boxes that show the API's code, message and issue
// paths; stat tiles; tables; confirmation dialogs; toasts.
import { ApiFailure } from "./api";
import { h, replaceChildren } from "./dom";

/** An API refusal as the API said it: code, message, and each issue's path. */
export function renderError(error: unknown): HTMLElement {
  const failure = toFailure(error);
  return h(
    "div",
    { class: "error-box", role: "alert" },
    h(
      "div",
      { class: "error-head" },
      h("code", { class: "error-code" }, failure.code),
      failure.status ? h("span", { class: "muted" }, `HTTP ${failure.status}`) : null,
      failure.details.checkedHere ? h("span", { class: "muted" }, "checked before sending, with the API's own rules — nothing was sent") : null,
    ),
    h("p", { class: "error-message" }, failure.message),
    failure.issues.length > 0
      ? h("ul", { class: "issues" }, ...failure.issues.map((i) => h("li", {}, h("code", {}, i.path || "(body)"), " ", i.message)))
      : null,
  );
}

export function toFailure(error: unknown): ApiFailure {
  if (error instanceof ApiFailure) return error;
  console.warn("dashboard: unexpected error", error);
  return new ApiFailure(0, "client_error", error instanceof Error ? error.message : String(error));
}

export function stat(label: string, value: string, hint?: string): HTMLElement {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value", title: value }, value), hint ? h("div", { class: "stat-hint" }, hint) : null);
}

export interface Column<T> {
  label: string;
  cell: (row: T) => Node | string;
  /** `num` right-aligns figures; `opt` hides the column on narrow screens. */
  class?: string;
}

export function table<T>(columns: Column<T>[], rows: readonly T[], empty: string, rowAttrs?: (row: T) => Record<string, string>): HTMLElement {
  if (rows.length === 0) return h("div", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, ...columns.map((c) => h("th", { class: c.class }, c.label)))),
      h("tbody", {}, ...rows.map((row) => h("tr", rowAttrs?.(row) ?? {}, ...columns.map((c) => h("td", { class: c.class, "data-label": c.label }, c.cell(row)))))),
    ),
  );
}

export function button(label: string, onClick: () => void, variant = "", attrs: Record<string, string> = {}): HTMLButtonElement {
  return h("button", { type: "button", class: `btn ${variant}`.trim(), onclick: () => onClick(), ...attrs }, label);
}

export function badge(text: string, tone: "ok" | "warn" | "bad" | "neutral" = "neutral"): HTMLElement {
  return h("span", { class: `badge ${tone}` }, text);
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmAction(title: string, text: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h("dialog", { class: "confirm" });
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    replaceChildren(
      dialog,
      h("h3", {}, title),
      h("p", {}, text),
      h("div", { class: "actions" }, button("Cancel", () => close(false), "ghost"), button(confirmLabel, () => close(true), "danger", { "data-confirm": "yes" })),
    );
    dialog.addEventListener("cancel", () => resolve(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

let toastTimer: ReturnType<typeof setTimeout> | undefined;
/** A short note at the bottom of the screen. */
export function toast(text: string, tone: "ok" | "bad" = "ok"): void {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", role: "status", "aria-live": "polite" });
    document.body.append(el);
  }
  el.className = `toast ${tone} show`;
  el.textContent = text;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el!.classList.remove("show"), 3500);
}
