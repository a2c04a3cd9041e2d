// The DLS of a station over its partitions. Each partition keeps its own dead letters (ids
// count within it). One partition is read by `partition`; without it a partitioned station's
// partitions are all read and merged, oldest `deadAt` first, and the page's `cursor` holds
// where each partition goes on. Resending by ids names one partition; resending all reaches
// every partition.
import { DEFAULT_DLS_LIMIT } from "../../shared/limits";
import { type DeadLetter, type DeadLetterQuery, type DeadLettersResponse, type ResendRequest, type ResendResponse, type DropResponse } from "../../shared/dead-letters";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { Env } from "../env";
import { partitionCount, partitionInRange, partitionStub } from "./objects";

/** `GET …/dls`: one partition's page, or every partition's merged. */
export async function listStationDeadLetters(env: Env, station: string, query: DeadLetterQuery): Promise<Result<DeadLettersResponse>> {
  const { partition, cursor, ...filter } = query;
  if (partition !== undefined) {
    if (partition > 0) {
      const inRange = await partitionInRange(env, station, partition);
      if (!inRange.ok) return inRange;
    }
    return partitionStub(env, station, partition).listDeadLetters(filter);
  }
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  if (counted.value === 1 && cursor === undefined) return partitionStub(env, station, 0).listDeadLetters(filter);
  const afters = parseCursor(cursor, counted.value);
  if (!afters.ok) return afters;
  return mergePages(env, station, filter, afters.value);
}

/** Each partition's `after` from a cursor; partitions the cursor predates (the station grew) start at the beginning. */
function parseCursor(cursor: string | undefined, partitions: number): Result<number[]> {
  const afters = cursor === undefined ? [] : cursor.split(".").map(Number);
  if (afters.length > partitions) return fail(ErrorCode.InvalidRequest, `cursor names ${afters.length} partitions; the station has ${partitions}`);
  return ok(Array.from({ length: partitions }, (_, partition) => afters[partition] ?? 0));
}

async function mergePages(env: Env, station: string, filter: Omit<DeadLetterQuery, "partition" | "cursor">, afters: number[]): Promise<Result<DeadLettersResponse>> {
  const limit = filter.limit ?? DEFAULT_DLS_LIMIT;
  const pages: Array<Result<DeadLettersResponse>> = await Promise.all(
    afters.map((after, partition) => partitionStub(env, station, partition).listDeadLetters({ ...filter, ...(after > 0 ? { after } : {}) })),
  );
  const letters: DeadLetter[] = [];
  let evicted = 0;
  for (const page of pages) {
    if (!page.ok) return page;
    letters.push(...page.value.deadLetters);
    evicted += page.value.evicted ?? 0;
  }
  letters.sort((a, b) => a.deadAt - b.deadAt || a.partition - b.partition || a.id - b.id);
  const taken = letters.slice(0, limit);
  const next = [...afters];
  for (const letter of taken) next[letter.partition] = letter.id;
  // More remain when a partition's letters were not all taken, or its own page said it had more.
  const more = letters.length > taken.length || pages.some((page) => page.ok && page.value.next !== null);
  return ok({ deadLetters: taken, next: null, evicted, cursor: more ? next.join(".") : null });
}

/** `POST …/dls/resend`: ids on their partition (0 by default); `all` on every partition. */
export async function resendStationDeadLetters(env: Env, station: string, request: ResendRequest): Promise<Result<ResendResponse>> {
  if ("ids" in request) {
    const { partition = 0, ...ids } = request;
    if (partition > 0) {
      const inRange = await partitionInRange(env, station, partition);
      if (!inRange.ok) return inRange;
    }
    return partitionStub(env, station, partition).resendDeadLetters(ids);
  }
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  if (counted.value === 1) return partitionStub(env, station, 0).resendDeadLetters(request);
  const answers: Array<Result<ResendResponse>> = await Promise.all(
    Array.from({ length: counted.value }, (_, partition) => partitionStub(env, station, partition).resendDeadLetters(request)),
  );
  const summed: ResendResponse = { resent: 0, missing: [], refused: [], more: false };
  for (const answer of answers) {
    if (!answer.ok) return answer;
    summed.resent += answer.value.resent;
    summed.missing.push(...answer.value.missing);
    summed.refused.push(...answer.value.refused);
    summed.more ||= answer.value.more;
  }
  return ok(summed);
}

/** `DELETE …/dls/{id}?partition=P` (0 by default). */
export async function dropStationDeadLetter(env: Env, station: string, id: number, partition: number): Promise<Result<DropResponse>> {
  if (partition > 0) {
    const inRange = await partitionInRange(env, station, partition);
    if (!inRange.ok) return inRange;
  }
  return partitionStub(env, station, partition).dropDeadLetter(id);
}
