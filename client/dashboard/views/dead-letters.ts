// The station's dead letters: browse with reasons (filter by group and reason), resend or drop
// one at a time or a selection in bulk, or resend everything that matches the filter.
import type { DeadLetter, DeadLettersResponse, DropResponse, ResendResponse } from "../../../shared/dead-letters";
import { DEAD_LETTER_REASONS } from "../../../shared/dead-letters";
import { ApiFailure, call, mapBounded, stationPath } from "../api";
import { renderBody, renderHeaders } from "../body-view";
import { h, replaceChildren } from "../dom";
import { formatAgo, formatCount, formatTime } from "../format";
import { badge, button, confirmAction, renderError, toast } from "../ui";
import { type View, parseRoute, stationHref } from "../view";
import type { StationContext } from "./station-context";

const PAGE_SIZE = 50;
/** Drops sent at once in a bulk drop. */
const DROP_CONCURRENCY = 4;
/** Rounds of `resend all` before stopping (each resends up to the API's per-request bound). */
const MAX_RESEND_ROUNDS = 100;

export function createDeadLettersView(ctx: StationContext): View {
  const route = parseRoute(location.hash);
  const params = route.name === "station" ? route.params : new URLSearchParams();
  const filter = { group: params.get("group") ?? "", reason: params.get("reason") ?? "" };
  const after = params.get("after");
  const selected = new Set<number>();
  const open = new Set<number>();
  let letters: DeadLetter[] = [];
  let next: number | null = null;
  let last = "";

  const list = h("div", { class: "dead-letters" }, h("div", { class: "loading" }, "Loading dead letters…"));
  const errorSlot = h("div", { class: "slot" });
  const selectAll = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select all on this page" });
  const selection = h("span", { class: "muted", id: "selection-count" });
  const bulkResend = button("Resend selected", () => void resend([...selected]), "primary small", { id: "resend-selected" });
  const bulkDrop = button("Drop selected", () => void drop([...selected]), "danger small", { id: "drop-selected" });
  const resendAll = button("Resend all matching", () => void resendEverything(), "small", { id: "resend-all" });
  const pager = h("div", { class: "pager" });
  for (const b of [bulkResend, bulkDrop, resendAll]) b.disabled = true; // until the first page is in
  selectAll.addEventListener("change", () => {
    if (selectAll.checked) letters.forEach((l) => selected.add(l.id));
    else selected.clear();
    last = "";
    show();
  });

  const groupInput = h("input", { type: "text", id: "dls-group", placeholder: "any group", value: filter.group, "aria-label": "Group" });
  const reasonSelect = h(
    "select",
    { id: "dls-reason", "aria-label": "Reason" },
    h("option", { value: "" }, "any reason"),
    ...DEAD_LETTER_REASONS.map((r) => h("option", { value: r, selected: r === filter.reason }, r.replace(/_/g, " "))),
  );
  const filterForm = h("form", { class: "inline-form filters" }, groupInput, reasonSelect, h("button", { type: "submit", class: "btn small" }, "Filter"));
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = hrefWith({ group: groupInput.value.trim(), reason: reasonSelect.value });
  });

  const el = h(
    "div",
    { class: "tab-body" },
    errorSlot,
    h(
      "div",
      { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", {}, "Dead letters"), filterForm),
      h("div", { class: "bulkbar" }, h("label", { class: "check" }, selectAll, "All on page"), selection, h("div", { class: "row-actions" }, bulkResend, bulkDrop, resendAll)),
      list,
      pager,
    ),
  );

  function hrefWith(q: Record<string, string>): string {
    const query = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== ""));
    const text = query.toString();
    return `${stationHref(ctx.station, "dls")}${text ? `?${text}` : ""}`;
  }

  function queryString(): string {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (filter.group) query.set("group", filter.group);
    if (filter.reason) query.set("reason", filter.reason);
    if (after) query.set("after", after);
    return query.toString();
  }

  async function resend(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    try {
      const result = await call<ResendResponse>("POST", stationPath(ctx.station, "dls", "resend"), { ids });
      ids.forEach((id) => selected.delete(id));
      errorSlot.replaceChildren();
      toast(describeResend(result), result.refused.length > 0 ? "bad" : "ok");
    } catch (error) {
      replaceChildren(errorSlot, renderError(error));
    }
    ctx.refreshSoon();
  }

  async function resendEverything(): Promise<void> {
    const scope = [filter.group && `group ${filter.group}`, filter.reason && `reason ${filter.reason.replace(/_/g, " ")}`].filter(Boolean).join(", ");
    if (!(await confirmAction("Resend all dead letters?", `Every dead letter${scope ? ` of ${scope}` : ""} goes back to its group.`, "Resend all"))) return;
    const body: Record<string, unknown> = { all: true };
    if (filter.group) body.group = filter.group;
    if (filter.reason) body.reason = filter.reason;
    let resent = 0;
    try {
      for (let round = 0; round < MAX_RESEND_ROUNDS; round++) {
        const result = await call<ResendResponse & { more?: boolean }>("POST", stationPath(ctx.station, "dls", "resend"), body);
        resent += result.resent;
        if (!result.more || result.resent === 0) break;
      }
      selected.clear();
      errorSlot.replaceChildren();
      toast(`Resent ${formatCount(resent)} dead letter${resent === 1 ? "" : "s"}`);
    } catch (error) {
      replaceChildren(errorSlot, renderError(error));
    }
    ctx.refreshSoon();
  }

  async function drop(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    const what = ids.length === 1 ? `dead letter ${ids[0]}` : `${ids.length} dead letters`;
    if (!(await confirmAction(`Drop ${what}?`, "Dropped dead letters are deleted for good.", "Drop"))) return;
    const failures: ApiFailure[] = [];
    let dropped = 0;
    await mapBounded(ids, DROP_CONCURRENCY, async (id) => {
      try {
        await call<DropResponse>("DELETE", stationPath(ctx.station, "dls", String(id)));
        dropped++;
        selected.delete(id);
      } catch (error) {
        if (error instanceof ApiFailure) failures.push(error);
        else throw error;
      }
    });
    if (failures.length > 0) replaceChildren(errorSlot, renderError(failures[0]));
    else errorSlot.replaceChildren();
    toast(`Dropped ${formatCount(dropped)} dead letter${dropped === 1 ? "" : "s"}`, failures.length > 0 ? "bad" : "ok");
    ctx.refreshSoon();
  }

  function show(): void {
    for (const id of [...selected]) if (!letters.some((l) => l.id === id)) selected.delete(id);
    const signature = JSON.stringify([letters, [...selected], [...open], next]);
    if (signature === last) return;
    last = signature;
    selection.textContent = selected.size > 0 ? `${selected.size} selected` : "";
    bulkResend.disabled = selected.size === 0;
    bulkDrop.disabled = selected.size === 0;
    resendAll.disabled = letters.length === 0;
    selectAll.checked = letters.length > 0 && selected.size === letters.length;
    replaceChildren(
      pager,
      after ? h("a", { class: "btn small", href: hrefWith({ ...filter }) }, "First page") : null,
      next !== null ? h("a", { class: "btn small", href: hrefWith({ ...filter, after: String(next) }), id: "dls-next" }, "Next page") : null,
    );
    if (letters.length === 0) {
      replaceChildren(list, h("div", { class: "empty" }, filter.group || filter.reason ? "No dead letters match." : "No dead letters. Nothing was given up on."));
      return;
    }
    replaceChildren(list, ...letters.map(renderLetter));
  }

  function renderLetter(l: DeadLetter): HTMLElement {
    const check = h("input", { type: "checkbox", "aria-label": `Select dead letter ${l.id}`, checked: selected.has(l.id) });
    check.addEventListener("change", () => {
      if (check.checked) selected.add(l.id);
      else selected.delete(l.id);
      show();
    });
    const details = h(
      "details",
      { open: open.has(l.id) },
      h("summary", {}, "Message"),
      renderHeaders(l.message.headers),
      renderBody(l.message.body),
    );
    details.addEventListener("toggle", () => {
      if (details.open) open.add(l.id);
      else open.delete(l.id);
    });
    return h(
      "article",
      { class: "letter", "data-id": String(l.id) },
      h(
        "div",
        { class: "letter-head" },
        check,
        h("span", { class: "offset" }, `#${l.id}`),
        badge(l.reason.replace(/_/g, " "), l.reason === "schema_violation" ? "warn" : "bad"),
        l.group ? h("span", { class: "meta" }, h("span", { class: "muted" }, "group "), l.group) : null,
        l.offset !== null ? h("span", { class: "meta" }, h("span", { class: "muted" }, "offset "), formatCount(l.offset)) : null,
        h("span", { class: "meta" }, h("span", { class: "muted" }, "deliveries "), String(l.deliveries)),
        h("time", { datetime: new Date(l.deadAt).toISOString(), title: formatTime(l.deadAt) }, formatAgo(l.deadAt)),
        h(
          "div",
          { class: "row-actions" },
          button("Resend", () => void resend([l.id]), "small", { "data-action": "resend" }),
          button("Drop", () => void drop([l.id]), "small danger-ghost", { "data-action": "drop" }),
        ),
      ),
      l.detail ? h("pre", { class: "detail" }, summarizeDetail(l.detail)) : null,
      details,
    );
  }

  return {
    el,
    async refresh() {
      try {
        const page = await call<DeadLettersResponse>("GET", `${stationPath(ctx.station, "dls")}?${queryString()}`);
        letters = page.deadLetters;
        next = page.next;
      } catch (error) {
        replaceChildren(list, renderError(error));
        last = "";
        throw error;
      }
      show();
    },
  };
}

function describeResend(result: ResendResponse): string {
  const parts = [`Resent ${formatCount(result.resent)}`];
  if (result.missing.length > 0) parts.push(`${result.missing.length} already gone`);
  if (result.refused.length > 0) parts.push(`${result.refused.length} refused: ${result.refused[0]!.message}`);
  return parts.join(" · ");
}

/** The detail a reason's owner recorded, as `key: value` lines (values as compact JSON). */
function summarizeDetail(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("\n")
    .slice(0, 2000);
}
