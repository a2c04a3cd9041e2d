// A group's config and position on a partitioned station: PUT, GET, DELETE and seek reach every
// partition. Start positions and seeks apply per partition; an offset names one partition's
// position, so `start: {offset: N}` starts partition 0 at N and the others at their head, and a
// seek `{offset, partition}` moves that partition only (docs/consumer-groups.md, "Partitions").
import { ErrorCode, ok, type Result } from "../../shared/errors";
import type { GroupConfig, GroupInfo, SeekResponse, SeekTarget } from "../../shared/groups";
import type { Env } from "../env";
import { allPartitions, onPartitions, type PartitionAnswer } from "./groups-calls";
import { sumGroupInfo } from "./groups-info";
import { checkPartition, partitionStub } from "./objects";

/**
 * Creates the group on every partition, or changes its overrides there. Partition 0 first: it
 * rules (start fixed, too many groups) before any other partition is touched. A failure on a
 * later partition leaves the group on some partitions: a PUT again completes it, and the
 * partitions missing it join it (from their head) the first time a group call reaches them.
 */
export async function putPartitionedGroup(env: Env, station: string, group: string, config: GroupConfig, partitions: number): Promise<Result<{ created: boolean; info: GroupInfo }>> {
  const first = await (partitionStub(env, station, 0).putGroup(group, config) as Promise<Result<{ created: boolean; info: GroupInfo }>>);
  if (!first.ok) return first;
  const offsetStart = typeof config.start === "object" && "offset" in config.start;
  const others = await onPartitions(env, station, group, allPartitions(partitions).slice(1), async (stub) => {
    // A group new on partition 0 is new everywhere: a copy left on another partition (by a
    // call that raced a DELETE and joined it back) goes first, or its old start would refuse this one.
    if (first.value.created) await stub.deleteGroup(group);
    const made = await ((offsetStart ? stub.adoptGroup(group, config) : stub.putGroup(group, config)) as Promise<Result<{ info: GroupInfo }>>);
    return made.ok ? ok(made.value.info) : made;
  });
  if (!others.ok) return others;
  return ok({ created: first.value.created, info: sumGroupInfo([{ partition: 0, value: first.value.info }, ...others.value]) });
}

export async function getPartitionedGroup(env: Env, station: string, group: string, partitions: number): Promise<Result<GroupInfo>> {
  const infos = await onPartitions(env, station, group, allPartitions(partitions), (stub) => stub.getGroup(group));
  return infos.ok ? ok(sumGroupInfo(infos.value)) : infos;
}

/**
 * Deletes the group everywhere, partition 0 (the group's record) last: until it goes, a call
 * that finds the group missing on another partition may join it back there, and a new PUT
 * clears such a copy. 404 only when no partition had the group.
 */
export async function deletePartitionedGroup(env: Env, station: string, group: string, partitions: number): Promise<Result<{ deleted: true }>> {
  const others: Array<Result<{ deleted: true }>> = await Promise.all(
    allPartitions(partitions).slice(1).map((partition) => partitionStub(env, station, partition).deleteGroup(group)),
  );
  // A partition that failed keeps its copy: partition 0 stays too, so sending the DELETE again finishes it.
  const failed = others.find((result) => !result.ok && result.error.code !== ErrorCode.GroupNotFound);
  if (failed) return failed;
  const zero = await (partitionStub(env, station, 0).deleteGroup(group) as Promise<Result<{ deleted: true }>>);
  if (!zero.ok && zero.error.code !== ErrorCode.GroupNotFound) return zero;
  const results = [zero, ...others];
  return results.some((result) => result.ok) ? ok({ deleted: true }) : results[0]!;
}

/**
 * Moves the group: `earliest`, `latest` and `{time}` move every partition; `{offset, partition}`
 * moves that partition (0 when none is named) and leaves the others where they are. Answers
 * the group summed, with the leases dropped summed.
 */
export async function seekPartitionedGroup(env: Env, station: string, group: string, target: SeekTarget, partitions: number): Promise<Result<SeekResponse>> {
  if (typeof target === "object" && "offset" in target) {
    const moved = checkPartition(target.partition ?? 0, partitions);
    if (!moved.ok) return moved;
    const answers = await onPartitions(env, station, group, allPartitions(partitions), (stub, partition) =>
      partition === moved.value ? stub.groupSeek(group, { offset: target.offset }) : describedAsSeek(stub.getGroup(group)),
    );
    return answers.ok ? ok(seekAnswer(answers.value)) : answers;
  }
  const answers = await onPartitions(env, station, group, allPartitions(partitions), (stub) => stub.groupSeek(group, target));
  return answers.ok ? ok(seekAnswer(answers.value)) : answers;
}

async function describedAsSeek(info: Promise<Result<GroupInfo>>): Promise<Result<SeekResponse>> {
  const read = await info;
  return read.ok ? ok({ ...read.value, dropped: 0 }) : read;
}

function seekAnswer(answers: ReadonlyArray<PartitionAnswer<SeekResponse>>): SeekResponse {
  const dropped = answers.reduce((total, answer) => total + answer.value.dropped, 0);
  const infos = answers.map(({ partition, value: { dropped: _, ...info } }) => ({ partition, value: info }));
  return { ...sumGroupInfo(infos), dropped };
}

