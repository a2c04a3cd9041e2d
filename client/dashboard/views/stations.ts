// The stations list: each station's messages, bytes, produce rate, retention and schema, with a
// sparkline of its recent throughput. Station infos are asked a few at a time.
import type { StationInfo, StationListEntry } from "../../../shared/stations";
import { webhookOfGroup } from "../../../shared/webhooks";
import { call, mapBounded, stationPath } from "../api";
import { renderSparkline } from "../chart";
import { h, replaceChildren } from "../dom";
import { formatBytes, formatCount, formatRate, produceRate } from "../format";
import { badge, renderError, table } from "../ui";
import { type View, stationHref } from "../view";
import { describeRetention, describeSchema } from "./station-summary";

/** Station infos asked at once. */
const CONCURRENCY = 4;
/** A refresh asks one info per station: with many stations, refresh less often than the poller
 *  ticks, so a dashboard never spends a scoped token's request rate (50/s by default). */
const MS_PER_STATION = 100;

type Row = { name: string; info: StationInfo | null; error: unknown };

export function createStationsView(): View {
  const body = h("div", { class: "panel-body" }, h("div", { class: "loading" }, "Loading stations…"));
  const count = h("span", { class: "muted" });
  const el = h(
    "section",
    { class: "page" },
    h(
      "div",
      { class: "page-head" },
      h("div", {}, h("h1", {}, "Stations"), count),
      h("a", { class: "btn primary", href: "#/new", id: "new-station" }, "New station"),
    ),
    h("div", { class: "panel" }, body),
  );
  let lastShown = "";
  let lastFullAt = 0;
  let stationCount = 0;

  return {
    el,
    async refresh() {
      if (Date.now() - lastFullAt < stationCount * MS_PER_STATION) return;
      lastFullAt = Date.now();
      let list: StationListEntry[];
      try {
        list = (await call<{ stations: StationListEntry[] }>("GET", "/v1/stations")).stations;
      } catch (error) {
        replaceChildren(body, renderError(error));
        lastShown = "";
        throw error;
      }
      stationCount = list.length;
      const rows: Row[] = await mapBounded(list, CONCURRENCY, async ({ name }) => {
        try {
          return { name, info: await call<StationInfo>("GET", stationPath(name)), error: null };
        } catch (error) {
          return { name, info: null, error };
        }
      });
      const signature = JSON.stringify(rows.map((r) => [r.name, r.info?.stats, r.info?.throughput.at(-2), r.info?.config, r.error ? String(r.error) : null]));
      count.textContent = `${list.length} station${list.length === 1 ? "" : "s"}`;
      if (signature === lastShown) return;
      lastShown = signature;
      replaceChildren(body, renderTable(rows));
    },
  };
}

function renderTable(rows: Row[]): HTMLElement {
  if (rows.length === 0) {
    return h(
      "div",
      { class: "empty" },
      h("p", {}, "No stations yet."),
      h("a", { class: "btn primary", href: "#/new" }, "Create the first station"),
    );
  }
  return table<Row>(
    [
      { label: "Station", cell: (r) => h("a", { class: "station-link", href: stationHref(r.name) }, r.name) },
      { label: "Messages", class: "num", cell: (r) => (r.info ? formatCount(r.info.stats.messages) : "—") },
      { label: "Bytes", class: "num", cell: (r) => (r.info ? formatBytes(r.info.stats.bytes) : "—") },
      { label: "Produce rate", class: "num", cell: (r) => (r.info ? formatRate(produceRate(r.info.throughput)) : "—") },
      { label: "Last 10 min", class: "spark opt", cell: (r) => (r.info ? h("span", {}, renderSparkline(r.info.throughput)) : "") },
      { label: "Groups", class: "num opt", cell: (r) => (r.info ? formatCount(r.info.groups.filter((g) => webhookOfGroup(g.name) === null).length) : "—") },
      {
        label: "Dead letters",
        class: "num",
        cell: (r) => (r.info ? (r.info.stats.deadLetters > 0 ? badge(formatCount(r.info.stats.deadLetters), "bad") : "0") : "—"),
      },
      { label: "Retention", class: "opt", cell: (r) => (r.info ? describeRetention(r.info.config) : r.error ? badge("unavailable", "warn") : "—") },
      { label: "Schema", class: "opt", cell: (r) => (r.info ? describeSchema(r.info.config) : "—") },
    ],
    rows,
    "No stations.",
    (r) => ({ "data-station": r.name }),
  );
}

