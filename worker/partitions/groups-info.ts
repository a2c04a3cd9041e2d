// A group of a partitioned station as one: each partition's GroupInfo summed, with each
// partition's own figures listed. Counts add up; positions (ackFloor, nextOffset, epoch) are
// per partition, so the summed answer carries partition 0's and `partitions` has them all.
import { type GroupConsumer, type GroupInfo, type GroupPartitionInfo, MAX_CONSUMERS_IN_INFO } from "../../shared/groups";
import type { PartitionAnswer } from "./groups-calls";

/**
 * A group of a partitioned station: counts summed over the partitions, `ackFloor`, `nextOffset`
 * and `epoch` partition 0's, and `partitions` each partition's own (an optional field more on
 * the wire; an unpartitioned station's answer has none).
 */
export type PartitionedGroupInfo = GroupInfo & { partitions: GroupPartitionInfo[] };

const SUMMED = ["pending", "lag", "deadLetters", "redeliveries", "delivered", "delayed", "acked", "discarded", "skipped"] as const;

/** The group over every partition; `answers` holds one entry per partition, partition 0 first. */
export function sumGroupInfo(answers: ReadonlyArray<PartitionAnswer<GroupInfo>>): PartitionedGroupInfo {
  const sorted = [...answers].sort((a, b) => a.partition - b.partition);
  const first = sorted[0]!.value;
  const summed: GroupInfo = { ...first };
  for (const field of SUMMED) summed[field] = sorted.reduce((total, answer) => total + answer.value[field], 0);
  summed.consumers = mergeConsumers(sorted.map((answer) => answer.value.consumers ?? []));
  return { ...summed, partitions: sorted.map(({ partition, value }) => partitionPart(partition, value)) };
}

function partitionPart(partition: number, info: GroupInfo): GroupPartitionInfo {
  return {
    partition,
    ackFloor: info.ackFloor,
    nextOffset: info.nextOffset,
    pending: info.pending,
    lag: info.lag,
    redeliveries: info.redeliveries,
    delayed: info.delayed,
    deadLetters: info.deadLetters,
    delivered: info.delivered,
    acked: info.acked,
    discarded: info.discarded,
    skipped: info.skipped,
    epoch: info.epoch,
  };
}

/** One entry per consumer: seen last on any partition, its leases on all of them; newest first. */
function mergeConsumers(lists: ReadonlyArray<readonly GroupConsumer[]>): GroupConsumer[] {
  const byName = new Map<string, GroupConsumer>();
  for (const consumer of lists.flat()) {
    const known = byName.get(consumer.name);
    if (!known) byName.set(consumer.name, { ...consumer });
    else {
      known.lastSeenAt = Math.max(known.lastSeenAt, consumer.lastSeenAt);
      known.pending += consumer.pending;
    }
  }
  return [...byName.values()].sort((a, b) => b.lastSeenAt - a.lastSeenAt || a.name.localeCompare(b.name)).slice(0, MAX_CONSUMERS_IN_INFO);
}
