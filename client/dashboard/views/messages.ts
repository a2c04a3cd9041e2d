// The message browser: a page of the log, newest first, from the newest offset or from one
// the operator picks; headers and body pretty-printed, binary shown as size and hex. On a
// partitioned station, one partition at a time (`?partition=P`, 0 by default): offsets count
// within a partition.
import type { Message, ReadResponse } from "../../../shared/messages";
import type { StationInfo, StationStats } from "../../../shared/stations";
import { call, stationPath } from "../api";
import { renderBody, renderHeaders } from "../body-view";
import { h, replaceChildren } from "../dom";
import { formatCount, formatTime } from "../format";
import { renderError } from "../ui";
import { type View, stationHref } from "../view";
import type { StationContext } from "./station-context";

const PAGE_SIZE = 20;

export function createMessagesView(ctx: StationContext, params: URLSearchParams): View {
  const at = parseOffset(params.get("at"));
  const partition = parsePartition(params.get("partition"));
  /** This view's address with `at` (null: the newest), keeping the partition. */
  const hrefAt = (offset: number | null) => {
    const query = [offset === null ? null : `at=${offset}`, partition === 0 ? null : `partition=${partition}`].filter((part) => part !== null);
    return `${stationHref(ctx.station, "messages")}${query.length > 0 ? `?${query.join("&")}` : ""}`;
  };
  const partitionPicker = h("span", { class: "toolbar partition-picker" });
  const list = h("div", { class: "messages" }, h("div", { class: "loading" }, "Loading messages…"));
  const pager = h("div", { class: "pager" });
  const range = h("span", { class: "muted" });
  const jump = h("input", { type: "text", inputmode: "numeric", id: "goto-offset", placeholder: "Offset", "aria-label": "Go to offset", value: at ? String(at) : "" });
  const jumpForm = h("form", { class: "inline-form" }, jump, h("button", { type: "submit", class: "btn small" }, "Go"));
  jumpForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const offset = parseOffset(jump.value.trim());
    location.hash = hrefAt(offset);
  });
  const el = h(
    "div",
    { class: "tab-body" },
    h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("div", {}, h("h2", {}, "Messages"), range), h("div", { class: "toolbar" }, partitionPicker, jumpForm, pager)), list),
  );
  let last = "";

  return {
    el,
    async refresh() {
      let info: StationInfo;
      let stats: StationStats;
      let messages: Message[] = [];
      let start = 0;
      let end = 0;
      try {
        info = await call<StationInfo>("GET", stationPath(ctx.station));
        stats = info.partitions?.find((part) => part.partition === partition)?.stats ?? info.stats;
        const { firstOffset, lastOffset } = stats;
        end = Math.min(at ?? lastOffset, lastOffset);
        start = Math.max(firstOffset, end - PAGE_SIZE + 1);
        if (end >= start && end >= 1) {
          const page = await call<ReadResponse>("GET", `${stationPath(ctx.station, "messages")}?from=${start}&limit=${end - start + 1}${partition === 0 ? "" : `&partition=${partition}`}`);
          messages = page.messages.filter((m) => m.offset <= end).reverse();
        }
      } catch (error) {
        replaceChildren(list, renderError(error));
        last = "";
        throw error;
      }
      const count = info.partitions?.length ?? 1;
      const signature = JSON.stringify([start, end, count, stats.firstOffset, stats.lastOffset, messages.map((m) => m.offset)]);
      if (signature === last) return;
      last = signature;
      const { firstOffset, lastOffset } = stats;
      replaceChildren(partitionPicker, ...(count > 1 ? renderPartitionLinks(ctx.station, count, partition) : []));
      range.textContent = messages.length > 0 ? `offsets ${formatCount(end)} down to ${formatCount(start)} of ${formatCount(firstOffset)}–${formatCount(lastOffset)}` : "";
      replaceChildren(
        pager,
        link("Newest", hrefAt(null), at === null || end >= lastOffset),
        link("Newer", hrefAt(end + PAGE_SIZE), end >= lastOffset),
        link("Older", hrefAt(start - 1), start <= firstOffset),
      );
      if (messages.length === 0) {
        replaceChildren(list, h("div", { class: "empty" }, lastOffset === 0 ? "No messages yet." : at !== null && at < firstOffset ? `Offset ${at} was trimmed by retention; the oldest kept is ${firstOffset}.` : "No messages here."));
        return;
      }
      replaceChildren(list, ...messages.map(renderMessage));
    },
  };
}

function link(label: string, href: string, disabled: boolean): HTMLElement {
  return disabled ? h("span", { class: "btn small disabled", "aria-disabled": "true" }, label) : h("a", { class: "btn small", href }, label);
}

export function renderMessage(m: Message): HTMLElement {
  const meta: Array<[string, string | null]> = [
    ["producer", m.producer === null ? null : `${m.producer}${m.seq !== null ? ` · seq ${m.seq}` : ""}`],
    ["key", m.key],
    ["id", m.id],
  ];
  return h(
    "article",
    { class: "msg", "data-offset": String(m.offset) },
    h(
      "header",
      {},
      h("span", { class: "offset" }, `#${formatCount(m.offset)}`),
      h("time", { datetime: new Date(m.producedAt).toISOString() }, formatTime(m.producedAt)),
      ...meta.filter(([, v]) => v !== null).map(([k, v]) => h("span", { class: "meta" }, h("span", { class: "muted" }, `${k} `), v!)),
    ),
    renderHeaders(m.headers),
    renderBody(m.body),
  );
}

/** One link per partition, the one shown marked. */
function renderPartitionLinks(station: string, count: number, shown: number): HTMLElement[] {
  return [
    h("span", { class: "muted" }, "Partition"),
    ...Array.from({ length: count }, (_, p) =>
      p === shown
        ? h("span", { class: "btn small disabled", "aria-current": "true", "data-partition": String(p) }, String(p))
        : h("a", { class: "btn small", href: `${stationHref(station, "messages")}${p === 0 ? "" : `?partition=${p}`}`, "data-partition": String(p) }, String(p)),
    ),
  ];
}

function parsePartition(text: string | null): number {
  return text && /^\d{1,2}$/.test(text) ? Number(text) : 0;
}

function parseOffset(text: string | null): number | null {
  if (!text || !/^\d{1,15}$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 ? n : null;
}
