// A station over its partitions: configure (create, change, grow), describe and delete. The
// count lives in partition 0's config, so partition 0 is configured last (a grown count is
// seen only once every partition exists) and destroyed last (a half-done delete leaves a
// station that a DELETE again finishes).
import { StationKind, type StationConfig } from "../../shared/config";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { StationInfo } from "../../shared/stations";
import type { Env } from "../env";
import { forgetPartitionCount, partitionStub, rememberPartitionCount } from "./objects";
import { partitionOf, sumStationInfo } from "./station-info";
import { copyWebhooksTo } from "./webhooks";

/** Partitions 1 … count - 1 (partition 0 is always called on its own, first or last). */
function laterPartitions(count: number): number[] {
  return Array.from({ length: count - 1 }, (_, index) => index + 1);
}

/** The count as partition 0 has it now (no cache: a config change or delete decides by it). */
function readCount(env: Env, name: string): Promise<Result<number>> {
  return partitionStub(env, name, 0).partitionCount();
}

/** What a config may not do to the station as it is: shrink, or make a doc station partitioned. */
export async function checkPartitionChange(env: Env, name: string, config: StationConfig): Promise<Result<number | null>> {
  const partitions = config.partitions ?? 1;
  if (config.kind === StationKind.Doc && partitions > 1) {
    return fail(ErrorCode.InvalidRequest, `A doc station has one partition (its updates merge in one order): drop partitions or set it to 1, not ${partitions}`, {
      issues: [{ path: "partitions", message: "A doc station has exactly 1 partition" }],
    });
  }
  const current = await readCount(env, name);
  if (!current.ok) return current.error.code === ErrorCode.StationNotFound ? ok(null) : current;
  if (partitions < current.value) {
    return fail(ErrorCode.PartitionsShrink, `Station ${name} has ${current.value} partitions; a station's partitions may grow, never shrink (each holds its own messages)`, {
      partitions: current.value,
    });
  }
  return ok(current.value);
}

/**
 * Configures every partition, partition 0 last; answers partition 0's `created` and the
 * station's info. `previous`: the count before (null for a new station); partitions it adds get
 * partition 0's webhook endpoints before the count that routes to them is visible.
 */
export async function configureStation(env: Env, name: string, config: StationConfig, previous: number | null): Promise<Result<{ created: boolean; info: StationInfo }>> {
  const partitions = config.partitions ?? 1;
  forgetPartitionCount(name);
  const later: Array<Result<{ created: boolean; info: StationInfo }>> = await Promise.all(
    laterPartitions(partitions).map((partition) => partitionStub(env, name, partition).configure(name, config, partition)),
  );
  const failed = later.find((result) => !result.ok);
  if (failed) return failed;
  if (previous !== null && previous < partitions) {
    const copied = await copyWebhooksTo(env, name, laterPartitions(partitions).filter((partition) => partition >= previous));
    if (!copied.ok) return copied;
  }
  const first = await partitionStub(env, name, 0).configure(name, config, 0);
  if (!first.ok) return first;
  rememberPartitionCount(name, partitions);
  const infos = [first.value.info, ...later.map((result) => (result.ok ? result.value.info : first.value.info))];
  return ok({ created: first.value.created, info: describeParts(infos) });
}

/** The station's info: partition 0's, with the others summed in when it has more. */
export async function describeStation(env: Env, name: string): Promise<Result<StationInfo>> {
  const first: Result<StationInfo> = await partitionStub(env, name, 0).info();
  if (!first.ok) return first;
  rememberPartitionCount(name, first.value.config.partitions ?? 1);
  return describeFrom(env, name, first.value);
}

/** The station's info given partition 0's: the other partitions asked in parallel, and summed in. */
export async function describeFrom(env: Env, name: string, first: StationInfo): Promise<Result<StationInfo>> {
  const partitions = first.config.partitions ?? 1;
  if (partitions === 1) return ok(describeParts([first]));
  const later: Array<Result<StationInfo>> = await Promise.all(laterPartitions(partitions).map((partition) => partitionStub(env, name, partition).info()));
  const infos: StationInfo[] = [first];
  for (const result of later) {
    if (!result.ok) return result;
    infos.push(result.value);
  }
  return ok(describeParts(infos));
}

function describeParts(infos: readonly StationInfo[]): StationInfo {
  return infos.length === 1 ? { ...infos[0]!, partitions: [partitionOf(infos[0]!, 0)] } : sumStationInfo(infos);
}

/** Destroys every partition, partition 0 last (a partition above 0 already gone is no error). */
export async function destroyStation(env: Env, name: string): Promise<Result<{ deleted: true }>> {
  forgetPartitionCount(name);
  const counted = await readCount(env, name);
  if (!counted.ok) return counted;
  const later: Array<Result<{ deleted: true }>> = await Promise.all(laterPartitions(counted.value).map((partition) => partitionStub(env, name, partition).destroy()));
  const failed = later.find((result) => !result.ok && result.error.code !== ErrorCode.StationNotFound);
  if (failed) return failed;
  const destroyed = await partitionStub(env, name, 0).destroy();
  forgetPartitionCount(name);
  return destroyed;
}
