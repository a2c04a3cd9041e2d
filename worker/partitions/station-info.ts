// A partitioned station's info as one: each partition's stats, groups and throughput summed,
// with every partition listed on its own. Counts and bytes add up; positions do not (offsets
// count within a partition), so firstOffset, lastOffset and a group's ackFloor are partition 0's.
import type { GroupSummary, PartitionInfo, StationInfo, StationStats } from "../../shared/stations";
import { THROUGHPUT_BUCKETS, type ThroughputBucket } from "../../shared/throughput";

const SUMMED_STATS = ["messages", "bytes", "produced", "deadLetters", "delivered", "delayed", "storedBytes", "archivedMessages", "archivedBytes"] as const;

/** The station over its partitions; `infos[p]` is partition p's own info (infos[0] first). */
export function sumStationInfo(infos: readonly StationInfo[]): StationInfo {
  const first = infos[0]!;
  return {
    ...first,
    stats: sumStats(infos.map((info) => info.stats)),
    groups: sumGroups(infos.map((info) => info.groups)),
    partitions: infos.map(partitionOf),
    throughput: sumThroughput(infos.map((info) => info.throughput)),
  };
}

/** One partition's part of the info (an unpartitioned station lists its only one). */
export function partitionOf(info: StationInfo, partition: number): PartitionInfo {
  return { partition, stats: info.stats, groups: info.groups };
}

function sumStats(all: readonly StationStats[]): StationStats {
  const summed: StationStats = { ...all[0]! };
  for (const field of SUMMED_STATS) summed[field] = all.reduce((total, stats) => total + stats[field], 0);
  return summed;
}

/** Groups by name, in partition 0's order then first seen; a partition lacking a group adds nothing. */
function sumGroups(all: ReadonlyArray<readonly GroupSummary[]>): GroupSummary[] {
  const byName = new Map<string, GroupSummary>();
  for (const groups of all) {
    for (const group of groups) {
      const known = byName.get(group.name);
      if (!known) byName.set(group.name, { ...group });
      else {
        known.pending += group.pending;
        known.lag += group.lag;
        known.deadLetters += group.deadLetters;
      }
    }
  }
  return [...byName.values()];
}

/** Buckets by start time, summed, oldest first; partitions read a moment apart may differ by a bucket at either end. */
function sumThroughput(all: ReadonlyArray<readonly ThroughputBucket[]>): ThroughputBucket[] {
  const byStart = new Map<number, ThroughputBucket>();
  for (const bucket of all.flat()) {
    const known = byStart.get(bucket.at);
    if (!known) byStart.set(bucket.at, { ...bucket });
    else {
      known.produced += bucket.produced;
      known.delivered += bucket.delivered;
    }
  }
  return [...byStart.values()].sort((a, b) => a.at - b.at).slice(-THROUGHPUT_BUCKETS);
}
