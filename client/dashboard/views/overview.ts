// A station's overview: its figures, the throughput chart, its consumer groups (lag, pending,
// ack floor, dead letters, consumers seen, "replay from…") and its webhook endpoints' health at a glance.
import { type GroupConsumer, type GroupInfo, MAX_CONSUMERS_IN_INFO } from "../../../shared/groups";
import type { GroupSummary, StationInfo } from "../../../shared/stations";
import { type WebhookInfo, type WebhookListResponse, webhookOfGroup } from "../../../shared/webhooks";
import { ApiFailure, call, stationPath } from "../api";
import { renderThroughputChart } from "../chart";
import { h, replaceChildren } from "../dom";
import { formatAgo, formatBytes, formatCount, formatDuration, formatRate, plural, produceRate } from "../format";
import { badge, button, renderError, stat, table } from "../ui";
import { type View, stationHref } from "../view";
import { openSeekForm } from "./group-seek";
import type { StationContext } from "./station-context";
import { renderPartitions } from "./partitions";
import { describeRetention, describeSchema } from "./station-summary";
import { webhookHealth } from "./webhook-health";

/** Webhook endpoints' groups carry only the summary; consumer groups carry their full info. */
type Group = GroupSummary & Partial<Pick<GroupInfo, "consumers" | "delivered" | "acked" | "redeliveries">>;

/** Consumers named in a group's row; the rest are counted. */
const CONSUMERS_NAMED = 3;
/** How often "last seen N s ago" is redrawn when nothing else changed. */
const SEEN_TICK_MS = 5000;

export function createOverviewView(ctx: StationContext, onInfo: (info: StationInfo) => void): View {
  const stats = h("div", { class: "stats" }, h("div", { class: "loading" }, "Loading…"));
  const chart = h("div", { class: "panel-body" });
  const groups = h("div", { class: "panel-body" });
  // The "replay from…" form: outside the table, which each refresh redraws.
  const seekSlot = h("div", { class: "panel-body", id: "group-seek" });
  const webhooks = h("div", { class: "panel-body" });
  // Shown only for a partitioned station.
  const partitions = h("div", { class: "panel-body" });
  const partitionsPanel = h("div", { class: "panel", id: "partitions", hidden: true }, h("div", { class: "panel-head" }, h("h2", {}, "Partitions")), partitions);
  const errorSlot = h("div", { class: "slot" });
  const el = h(
    "div",
    { class: "tab-body" },
    errorSlot,
    stats,
    h("div", { class: "panel" }, h("div", { class: "panel-head" }, h("h2", {}, "Throughput")), chart),
    partitionsPanel,
    h("div", { class: "panel", id: "groups" }, h("div", { class: "panel-head" }, h("h2", {}, "Consumer groups")), groups, seekSlot),
    h(
      "div",
      { class: "panel", id: "webhooks-summary" },
      h("div", { class: "panel-head" }, h("h2", {}, "Webhooks"), h("a", { class: "btn small", href: stationHref(ctx.station, "webhooks") }, "Manage")),
      webhooks,
    ),
  );
  let last = "";
  const replayFrom = (group: string) => openSeekForm(seekSlot, ctx.station, group, () => void view.refresh().catch(() => {}));

  const view: View = {
    el,
    async refresh() {
      let info: StationInfo;
      try {
        info = await call<StationInfo>("GET", stationPath(ctx.station));
      } catch (error) {
        replaceChildren(errorSlot, renderError(error));
        throw error;
      }
      const endpoints = await listWebhooks(ctx.station);
      errorSlot.replaceChildren();
      onInfo(info);
      // "last seen … ago" ages while the figures stand still: redraw it now and then.
      const tick = info.groups.some((g: Group) => (g.consumers?.length ?? 0) > 0) ? Math.floor(Date.now() / SEEN_TICK_MS) : 0;
      const signature = JSON.stringify([info, endpoints, tick]);
      if (signature === last) return;
      last = signature;
      replaceChildren(stats, ...renderStats(info));
      replaceChildren(chart, renderThroughputChart(info.throughput));
      const partitionTable = renderPartitions(info);
      partitionsPanel.hidden = partitionTable === null;
      replaceChildren(partitions, partitionTable);
      const consumerGroups = info.groups.filter((g) => webhookOfGroup(g.name) === null);
      replaceChildren(groups, renderGroups(ctx.station, consumerGroups, replayFrom));
      replaceChildren(webhooks, endpoints instanceof ApiFailure ? renderError(endpoints) : renderWebhookSummary(endpoints));
    },
  };
  return view;
}

/** The station's endpoints, or the refusal (shown in place, so the rest of the page still works). */
export async function listWebhooks(station: string): Promise<WebhookInfo[] | ApiFailure> {
  try {
    return (await call<WebhookListResponse>("GET", stationPath(station, "webhooks"))).webhooks;
  } catch (error) {
    if (error instanceof ApiFailure && error.status !== 401) return error;
    throw error;
  }
}

function renderStats(info: StationInfo): HTMLElement[] {
  const { stats, config } = info;
  return [
    // Offsets count within a partition: a partitioned station names its partitions instead.
    stat("Messages", formatCount(stats.messages), (info.partitions?.length ?? 1) > 1 ? `over ${plural(info.partitions!.length, "partition")}` : stats.messages > 0 ? `offsets ${formatCount(stats.firstOffset)}–${formatCount(stats.lastOffset)}` : "empty"),
    stat("Stored", formatBytes(stats.bytes), stats.archivedMessages > 0 ? `+ ${formatBytes(stats.archivedBytes)} in R2 (${plural(stats.archivedMessages, "message")})` : undefined),
    stat("Produce rate", formatRate(produceRate(info.throughput)), `${formatCount(stats.produced)} produced`),
    stat("Delivery rate", formatRate(produceRate(info.throughput, "delivered")), `${formatCount(stats.delivered)} delivered`),
    stat("Dead letters", formatCount(stats.deadLetters)),
    stat("Retention", describeRetention(config), `schema: ${describeSchema(config)}`),
    stat("Ack timeout", formatDuration(config.ackTimeoutMs), `max ${plural(config.maxDeliveries, "delivery", "deliveries")}`),
    stat("Groups", formatCount(info.groups.filter((g) => webhookOfGroup(g.name) === null).length), plural(info.groups.filter((g) => webhookOfGroup(g.name) !== null).length, "webhook endpoint")),
  ].map((el, i) => {
    if (i === 4 && stats.deadLetters > 0) el.classList.add("alert");
    return el;
  });
}

function renderGroups(station: string, groups: Group[], replayFrom: (group: string) => void): HTMLElement {
  return table<Group>(
    [
      { label: "Group", cell: (g) => h("span", { class: "mono" }, g.name) },
      { label: "Lag", class: "num", cell: (g) => (g.lag > 0 ? badge(formatCount(g.lag), g.lag > 1000 ? "warn" : "neutral") : "0") },
      { label: "Pending", class: "num", cell: (g) => formatCount(g.pending) },
      { label: "Ack floor", class: "num", cell: (g) => formatCount(g.ackFloor) },
      {
        label: "Dead letters",
        class: "num",
        cell: (g) => (g.deadLetters > 0 ? h("a", { href: `${stationHref(station, "dls")}?group=${encodeURIComponent(g.name)}` }, badge(formatCount(g.deadLetters), "bad")) : "0"),
      },
      ...(groups.some((g) => g.consumers !== undefined) ? [{ label: "Consumers seen", class: "consumers opt", cell: (g: Group) => consumersSeen(g) }] : []),
      { label: "Delivered", class: "num opt", cell: (g) => (g.delivered !== undefined ? formatCount(g.delivered) : "—") },
      { label: "", cell: (g) => button("Replay from…", () => replayFrom(g.name), "small", { "data-replay": g.name }) },
    ],
    groups,
    "No consumer groups yet. A group appears the first time a consumer fetches from it.",
    (g) => ({ "data-group": g.name }),
  );
}

/** How many consumers the group has seen, and the most recent by name with when and what they hold. */
function consumersSeen(g: Group): Node | string {
  const consumers = g.consumers;
  if (consumers === undefined) return "—";
  if (consumers.length === 0) return "0";
  // The info lists at most MAX_CONSUMERS_IN_INFO: a full list means there may be more.
  const count = consumers.length >= MAX_CONSUMERS_IN_INFO ? `${formatCount(consumers.length)}+` : formatCount(consumers.length);
  const named = consumers.slice(0, CONSUMERS_NAMED);
  const more = consumers.length - named.length;
  return h(
    "div",
    { class: "consumers-seen" },
    h("span", { class: "consumer-count" }, count),
    h("ul", { class: "consumer-list" }, ...named.map((c) => consumerLine(c))),
    more > 0 ? h("span", { class: "muted" }, `and ${formatCount(more)} more`) : null,
  );
}

function consumerLine(c: GroupConsumer): HTMLElement {
  return h(
    "li",
    { "data-consumer": c.name },
    h("span", { class: "mono" }, c.name),
    h("span", { class: "muted" }, ` · last seen ${formatAgo(c.lastSeenAt)}${c.pending > 0 ? ` · ${plural(c.pending, "pending", "pending")}` : ""}`),
  );
}

function renderWebhookSummary(endpoints: WebhookInfo[]): HTMLElement {
  return table<WebhookInfo>(
    [
      { label: "Endpoint", cell: (w) => h("span", { class: "mono" }, w.name) },
      { label: "Health", cell: (w) => webhookHealth(w) },
      { label: "Lag", class: "num", cell: (w) => formatCount(w.cursor.lag + w.cursor.pending) },
      { label: "Delivered", class: "num opt", cell: (w) => formatCount(w.health.delivered) },
      { label: "Last attempt", class: "opt", cell: (w) => (w.health.lastAttemptAt ? formatAgo(w.health.lastAttemptAt) : "never") },
    ],
    endpoints,
    "No webhook endpoints.",
    (w) => ({ "data-webhook": w.name }),
  );
}
