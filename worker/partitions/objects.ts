// Which Durable Object holds which partition of a station, and how many partitions it has.
//
// Partition 0 is the object named after the station, exactly as an unpartitioned station has
// always been, so making a station partitioned moves no data. Partition P > 0 lives in the object
// named `<station>#<P>`: `#` is not a station-name character, so no station can collide with it.
//
// The count lives in partition 0's config. The Worker keeps what it last read for a moment
// (COUNT_TTL_MS) so an unpartitioned station's produce costs no extra call; a config change made
// through this isolate forgets it at once. Elsewhere a count may be read stale for up to the TTL
// after the station grows: those messages go by the old count, to partitions that still exist
// (the count never shrinks), and docs/partitions.md says what that means for order.
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { Env } from "../env";

/** How long a partition count read from partition 0 is trusted. */
export const COUNT_TTL_MS = 2_000;

const counts = new Map<string, { partitions: number; readAt: number }>();

export function partitionObjectName(station: string, partition: number): string {
  return partition === 0 ? station : `${station}#${partition}`;
}

export function partitionStub(env: Env, station: string, partition: number) {
  return env.STATION.get(env.STATION.idFromName(partitionObjectName(station, partition)));
}

/** The station's partition count (404 `station_not_found` when there is no station). */
export async function partitionCount(env: Env, station: string, now = Date.now()): Promise<Result<number>> {
  const known = counts.get(station);
  if (known && now - known.readAt < COUNT_TTL_MS) return ok(known.partitions);
  const read = await partitionStub(env, station, 0).partitionCount();
  if (!read.ok) {
    counts.delete(station);
    return read;
  }
  rememberPartitionCount(station, read.value, now);
  return read;
}

export function rememberPartitionCount(station: string, partitions: number, now = Date.now()): void {
  counts.set(station, { partitions, readAt: now });
}

/** A config change or a delete went through this isolate: read the count afresh next time. */
export function forgetPartitionCount(station: string): void {
  counts.delete(station);
}

/** Refuses a partition index the station does not have. */
export function checkPartition(partition: number, partitions: number): Result<number> {
  if (partition < partitions) return ok(partition);
  return fail(ErrorCode.PartitionOutOfRange, `Station has ${partitions} partition${partitions === 1 ? "" : "s"} (0 to ${partitions - 1}); there is no partition ${partition}`, { partitions });
}

/**
 * `partition` checked against the station's count. A partition beyond a cached count is
 * checked again against a fresh one before it is refused: the caller (an SDK routing by the
 * count a produce answered) may have seen the station grow before this isolate did.
 */
export async function partitionInRange(env: Env, station: string, partition: number): Promise<Result<number>> {
  let counted = await partitionCount(env, station);
  if (counted.ok && partition >= counted.value) {
    forgetPartitionCount(station);
    counted = await partitionCount(env, station);
  }
  if (!counted.ok) return counted;
  const inRange = checkPartition(partition, counted.value);
  return inRange.ok ? counted : inRange;
}
