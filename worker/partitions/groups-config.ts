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
  const first: Result<{ created: boolean; info: GroupInfo }> = await partitionStub(env, station, 0).putGroup(group, config);
  if (!first.ok) return first;
  const offsetStart = typeof config.start === "object" && "offset" in config.start;
  const others = await onPartitions(env, station, group, allPartitions(partitions).slice(1), async (stub) => {
    const made: Result<{ info: GroupInfo }> = offsetStart ? await stub.adoptGroup(group, config) : await stub.putGroup(group, config);
    return made.ok ? ok(made.value.info) : made;
  });
  if (!others.ok) return others;
  return ok({ created: first.value.created, info: sumGroupInfo([{ partition: 0, value: first.value.info }, ...others.value]) });
}

export async function getPartitionedGroup(env: Env, station: string, group: string, partitions: number): Promise<Result<GroupInfo>> {
  const infos = await onPartitions(env, station, group, allPartitions(partitions), (stub) => stub.getGroup(group));
  return infos.ok ? ok(sumGroupInfo(infos.value)) : infos;
}

/** Deletes the group everywhere; 404 only when no partition had it. */
export async function deletePartitionedGroup(env: Env, station: string, group: string, partitions: number): Promise<Result<{ deleted: true }>> {
  const results: Array<Result<{ deleted: true }>> = await Promise.all(
    allPartitions(partitions).map((partition) => partitionStub(env, station, partition).deleteGroup(group)),
  );
  const failed = results.find((result) => !result.ok && result.error.code !== ErrorCode.GroupNotFound);
  if (failed) return failed;
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

