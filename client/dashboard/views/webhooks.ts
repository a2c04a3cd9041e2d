// A station's webhook endpoints: health, last error, cursor, recent deliveries; disable,
// enable, replay from an offset, edit and delete.
import type { WebhookInfo } from "../../../shared/webhooks";
import { ApiFailure, call, stationPath } from "../api";
import { h, replaceChildren } from "../dom";
import { formatAgo, formatCount, formatDuration, formatTime } from "../format";
import { badge, button, confirmAction, renderError, table, toast } from "../ui";
import { type View, stationHref } from "../view";
import { listWebhooks } from "./overview";
import type { StationContext } from "./station-context";
import { webhookHealth } from "./webhook-health";

export function createWebhooksView(ctx: StationContext): View {
  const list = h("div", { class: "webhooks" }, h("div", { class: "loading" }, "Loading endpoints…"));
  const errorSlot = h("div", { class: "slot" });
  const open = new Set<string>();
  let last = "";
  const el = h(
    "div",
    { class: "tab-body" },
    errorSlot,
    h(
      "div",
      { class: "panel" },
      h("div", { class: "panel-head" }, h("h2", {}, "Webhook endpoints"), h("a", { class: "btn primary small", href: stationHref(ctx.station, "webhooks", "new"), id: "new-webhook" }, "New endpoint")),
      list,
    ),
  );

  async function act(work: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await work();
      errorSlot.replaceChildren();
      toast(done);
    } catch (error) {
      replaceChildren(errorSlot, renderError(error));
    }
    ctx.refreshSoon();
  }

  function setEnabled(w: WebhookInfo, enabled: boolean): Promise<void> {
    return act(() => call("PUT", stationPath(ctx.station, "webhooks", w.name), { ...optionsOf(w), enabled }), `${enabled ? "Enabled" : "Disabled"} ${w.name}`);
  }

  function renderEndpoint(w: WebhookInfo): HTMLElement {
    const replayFrom = h("input", { type: "text", inputmode: "numeric", placeholder: "earliest", "aria-label": `Replay ${w.name} from offset`, class: "short" });
    const replayForm = h("form", { class: "inline-form" }, h("span", { class: "muted" }, "Replay from"), replayFrom, h("button", { type: "submit", class: "btn small", "data-action": "replay" }, "Replay"));
    replayForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = replayFrom.value.trim();
      const from = text === "" || text === "earliest" ? "earliest" : /^\d+$/.test(text) ? Number(text) : text;
      void act(() => call("POST", stationPath(ctx.station, "webhooks", w.name, "replay"), { from }), `Replaying ${w.name} from ${from}`);
    });
    const recent = h(
      "details",
      { open: open.has(w.name), class: "recent" },
      h("summary", {}, `Recent deliveries (${w.recent.length})`),
      table(
        [
          { label: "When", cell: (a) => h("time", { title: formatTime(a.at) }, formatAgo(a.at)) },
          { label: "Offset", class: "num", cell: (a) => formatCount(a.offset) },
          { label: "Attempt", class: "num", cell: (a) => String(a.attempt) },
          { label: "Status", class: "num", cell: (a) => (a.status === null ? "—" : String(a.status)) },
          { label: "Outcome", cell: (a) => badge(a.outcome.replace(/_/g, " "), a.outcome === "delivered" ? "ok" : a.outcome === "retrying" ? "warn" : "bad") },
          { label: "Time", class: "num opt", cell: (a) => formatDuration(a.durationMs) },
          { label: "Error", class: "opt", cell: (a) => a.error ?? "" },
        ],
        w.recent,
        "No attempts yet.",
      ),
    );
    recent.addEventListener("toggle", () => (recent.open ? open.add(w.name) : open.delete(w.name)));
    const lastError = w.health.lastError ?? (w.health.lastStatus !== null && (w.health.lastStatus < 200 || w.health.lastStatus >= 300) ? `HTTP ${w.health.lastStatus}` : null);
    return h(
      "article",
      { class: "endpoint", "data-webhook": w.name },
      h(
        "div",
        { class: "endpoint-head" },
        h("div", { class: "endpoint-title" }, h("h3", {}, w.name), webhookHealth(w)),
        h("div", { class: "mono url" }, w.url),
      ),
      h(
        "dl",
        { class: "facts" },
        fact("Last status", w.health.lastStatus === null ? "—" : String(w.health.lastStatus)),
        fact("Last attempt", w.health.lastAttemptAt ? formatAgo(w.health.lastAttemptAt) : "never"),
        fact("Last success", w.health.lastSuccessAt ? formatAgo(w.health.lastSuccessAt) : "never"),
        fact("Failures in a row", formatCount(w.health.consecutiveFailures)),
        fact("Delivered", formatCount(w.health.delivered)),
        fact("Dead-lettered", formatCount(w.health.deadLettered)),
        fact("Lag", formatCount(w.cursor.lag)),
        fact("In progress", formatCount(w.cursor.pending)),
        fact("Next attempt", w.cursor.nextAttemptAt ? formatTime(w.cursor.nextAttemptAt).slice(11) : "—"),
        fact("Mode", w.ordered ? "ordered" : `${w.maxInFlight} in flight`),
      ),
      lastError ? h("div", { class: "last-error" }, h("span", { class: "muted" }, "Last error "), lastError) : null,
      h(
        "div",
        { class: "endpoint-actions" },
        w.enabled
          ? button("Disable", () => void setEnabled(w, false), "small", { "data-action": "disable" })
          : button("Enable", () => void setEnabled(w, true), "small primary", { "data-action": "enable" }),
        h("a", { class: "btn small", href: stationHref(ctx.station, "webhooks", w.name, "edit"), "data-action": "edit" }, "Edit"),
        replayForm,
        h("div", { class: "spacer" }),
        button(
          "Delete",
          async () => {
            if (!(await confirmAction(`Delete endpoint ${w.name}?`, "Deliveries to it stop; its dead letters stay in the DLS.", "Delete"))) return;
            void act(() => call("DELETE", stationPath(ctx.station, "webhooks", w.name)), `Deleted ${w.name}`);
          },
          "small danger-ghost",
          { "data-action": "delete" },
        ),
      ),
      recent,
    );
  }

  return {
    el,
    async refresh() {
      const endpoints = await listWebhooks(ctx.station);
      if (endpoints instanceof ApiFailure) {
        replaceChildren(list, renderError(endpoints));
        last = "";
        return;
      }
      const signature = JSON.stringify(endpoints);
      if (signature === last) return;
      last = signature;
      if (endpoints.length === 0) {
        replaceChildren(list, h("div", { class: "empty" }, "No endpoints yet. An endpoint receives every new message as a signed POST."));
        return;
      }
      // Re-rendering would take the caret out of a half-typed replay offset: skip while typing.
      if (list.contains(document.activeElement) && document.activeElement instanceof HTMLInputElement) {
        last = "";
        return;
      }
      replaceChildren(list, ...endpoints.map(renderEndpoint));
    },
  };
}

function fact(label: string, value: string): HTMLElement {
  return h("div", { class: "fact" }, h("dt", {}, label), h("dd", {}, value));
}

/** The PUT body that keeps an endpoint's options as they are (a PUT replaces them). */
export function optionsOf(w: WebhookInfo): Record<string, unknown> {
  const body: Record<string, unknown> = {
    url: w.url,
    ordered: w.ordered,
    filter: w.filter,
    retry: w.retry,
    timeoutMs: w.timeoutMs,
    disableAfterMs: w.disableAfterMs,
    rotationGraceMs: w.rotationGraceMs,
  };
  if (!w.ordered) body.maxInFlight = w.maxInFlight;
  return body;
}
