// One group call made on several partitions of a station at once, for the group routes of a
// partitioned station. Every partition holds its own copy of the group (cursor, leases, epoch);
// partition 0's is the group's record. A partition that lacks the group (added to the station
// after the group was made, or missed by a PUT that failed half-way) joins it here, from its
// log's head, the first time a call finds it missing — never when partition 0 lacks it too.
import { ErrorCode, ok, type Result, type WireError } from "../../shared/errors";
import type { GroupInfo } from "../../shared/groups";
import type { Env } from "../env";
import { partitionStub } from "./objects";

export type PartitionStub = ReturnType<typeof partitionStub>;

export interface PartitionAnswer<T> {
  partition: number;
  value: T;
}

/** Partitions 0 … count - 1. */
export function allPartitions(count: number): number[] {
  return Array.from({ length: count }, (_, partition) => partition);
}

/**
 * Calls `call` on each of `partitions` in parallel and answers their values in the order given,
 * or the first error (by that order). Calls on the other partitions have run meanwhile: the
 * caller says what that means for its request (acks are idempotent, so a retry is safe).
 */
export async function onPartitions<T>(
  env: Env,
  station: string,
  group: string,
  partitions: readonly number[],
  call: (stub: PartitionStub, partition: number) => Promise<Result<T>>,
): Promise<Result<Array<PartitionAnswer<T>>>> {
  const results = await Promise.all(partitions.map((partition) => onPartition(env, station, group, partition, call)));
  const answers: Array<PartitionAnswer<T>> = [];
  for (const [index, result] of results.entries()) {
    if (!result.ok) return result;
    answers.push({ partition: partitions[index]!, value: result.value });
  }
  return ok(answers);
}

/** `call` on one partition; a partition above 0 that lacks the group joins it and is called again, once. */
export async function onPartition<T>(
  env: Env,
  station: string,
  group: string,
  partition: number,
  call: (stub: PartitionStub, partition: number) => Promise<Result<T>>,
): Promise<Result<T>> {
  const stub = partitionStub(env, station, partition);
  const first = await call(stub, partition);
  if (first.ok || partition === 0 || !isGroupMissing(first.error)) return first;
  const joined = await joinGroup(env, station, group, partition);
  if (!joined.ok) return joined;
  return call(stub, partition);
}

/** Makes `partition` hold the group partition 0 holds (its start and overrides), from that partition's head. */
export async function joinGroup(env: Env, station: string, group: string, partition: number): Promise<Result<GroupInfo>> {
  const record = await (partitionStub(env, station, 0).getGroup(group) as Promise<Result<GroupInfo>>);
  if (!record.ok) return record;
  const { start, overrides } = record.value;
  const joined = await (partitionStub(env, station, partition).adoptGroup(group, { start, ...overrides }) as Promise<Result<{ info: GroupInfo }>>);
  return joined.ok ? ok(joined.value.info) : joined;
}

export function isGroupMissing(error: WireError): boolean {
  return error.code === ErrorCode.GroupNotFound;
}
