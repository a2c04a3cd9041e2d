// A station's page: its header, figures and tabs (overview, messages, dead letters, webhooks,
// config). The tab's own view does the work; this frame keeps the header fresh.
import type { StationInfo } from "../../../shared/stations";
import { call, stationPath } from "../api";
import { h, replaceChildren } from "../dom";
import { type Route, type StationTab, type View, stationHref } from "../view";
import { createDeadLettersView } from "./dead-letters";
import { createMessagesView } from "./messages";
import { createOverviewView } from "./overview";
import type { StationContext } from "./station-context";
import { createStationFormView } from "./station-form";
import { createWebhookFormView } from "./webhook-form";
import { createWebhooksView } from "./webhooks";

const TAB_LABELS: Record<StationTab, string> = {
  overview: "Overview",
  messages: "Messages",
  dls: "Dead letters",
  webhooks: "Webhooks",
  config: "Config",
};

export function createStationView(route: Extract<Route, { name: "station" }>, refreshSoon: () => void): View {
  const { station, tab } = route;
  const context: StationContext = { station, refreshSoon };
  const inner = tabView(route, context);
  const dlsCount = h("span", { class: "tab-count" });
  const tabs = h(
    "nav",
    { class: "tabs", "aria-label": "Station" },
    ...(Object.keys(TAB_LABELS) as StationTab[]).map((t) =>
      h(
        "a",
        { href: stationHref(station, t), class: t === tab ? "tab active" : "tab", "aria-current": t === tab ? "page" : null, "data-tab": t },
        t === "dls" ? h("span", { class: "wide-only" }, TAB_LABELS[t]) : TAB_LABELS[t],
        t === "dls" ? h("span", { class: "narrow-only" }, "DLS") : null,
        t === "dls" ? dlsCount : null,
      ),
    ),
  );
  const el = h(
    "section",
    { class: "page" },
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("div", { class: "crumbs" }, h("a", { href: "#/" }, "Stations"), " / "), h("h1", { class: "station-name" }, station)),
    ),
    tabs,
    inner.el,
  );

  return {
    el,
    async refresh() {
      await inner.refresh();
      // The dead-letter count on its tab, from the station's own figures (cheap: one ask).
      if (tab !== "overview") {
        const info = await call<StationInfo>("GET", stationPath(station)).catch(() => null);
        if (info) showCount(dlsCount, info.stats.deadLetters);
      }
    },
    dispose() {
      inner.dispose?.();
    },
  };

  function tabView(r: typeof route, ctx: StationContext): View {
    switch (r.tab) {
      case "overview":
        return createOverviewView(ctx, (info) => showCount(dlsCount, info.stats.deadLetters));
      case "messages":
        return createMessagesView(ctx, r.params);
      case "dls":
        return createDeadLettersView(ctx);
      case "webhooks":
        if (r.rest[0] === "new") return createWebhookFormView(ctx, null);
        if (r.rest[0] && r.rest[1] === "edit") return createWebhookFormView(ctx, r.rest[0]);
        return createWebhooksView(ctx);
      case "config":
        return createStationFormView(station);
    }
  }
}

function showCount(el: HTMLElement, n: number): void {
  replaceChildren(el, n > 0 ? String(n) : "");
  el.classList.toggle("hot", n > 0);
}
