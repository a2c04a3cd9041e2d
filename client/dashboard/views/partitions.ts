// A partitioned station's partitions at a glance: each one's messages, bytes, offsets and dead
// letters, and its share of what the station produced (the skew: even keys give each 1/count).
// Nothing is shown for an unpartitioned station, whose figures are the station's.
import type { PartitionInfo, StationInfo } from "../../../shared/stations";
import { h } from "../dom";
import { formatBytes, formatCount } from "../format";
import { badge, table } from "../ui";
import { stationHref } from "../view";

/** A share this many times the even share (1/count) is flagged as skewed. */
const SKEWED_FACTOR = 2;

export function renderPartitions(info: StationInfo): HTMLElement | null {
  const partitions = info.partitions ?? [];
  if (partitions.length <= 1) return null;
  const produced = info.stats.produced;
  const even = 1 / partitions.length;
  const shareOf = (p: PartitionInfo) => (produced === 0 ? 0 : p.stats.produced / produced);
  return table<PartitionInfo>(
    [
      { label: "Partition", class: "num", cell: (p) => h("a", { href: `${stationHref(info.name, "messages")}?partition=${p.partition}` }, String(p.partition)) },
      { label: "Messages", class: "num", cell: (p) => formatCount(p.stats.messages) },
      { label: "Stored", class: "num opt", cell: (p) => formatBytes(p.stats.bytes) },
      { label: "Offsets", class: "num opt", cell: (p) => (p.stats.messages > 0 ? `${formatCount(p.stats.firstOffset)}–${formatCount(p.stats.lastOffset)}` : "—") },
      {
        label: "Share",
        cell: (p) => {
          const share = shareOf(p);
          const percent = `${(share * 100).toFixed(1)}%`;
          return h(
            "span",
            { class: "partition-share", "data-share": share.toFixed(4) },
            h("meter", { min: 0, max: 1, value: share.toFixed(4), "aria-label": `Partition ${p.partition}'s share` }),
            share > even * SKEWED_FACTOR ? badge(percent, "warn") : percent,
          );
        },
      },
      { label: "Dead letters", class: "num", cell: (p) => (p.stats.deadLetters > 0 ? badge(formatCount(p.stats.deadLetters), "bad") : "0") },
    ],
    partitions,
    "No partitions.",
    (p) => ({ "data-partition": String(p.partition) }),
  );
}
