// Produce to a station over its partitions: the batch is split by partition (the request's
// `partition`, else each message's key, else its producer), each part is ruled by its own
// partition in parallel, and the rulings come back in batch order. An unpartitioned station
// costs exactly the one call it always did. A part whose partition answered an error is
// `unruled` in a 200 when another part was ruled; when no part was, that error is the answer.
import { ErrorCode, ok, type Result, type WireError } from "../../shared/errors";
import type { ProduceResponse, ProduceResult } from "../../shared/messages";
import type { Env } from "../env";
import type { ProduceRequestParts } from "../http/produce-request";
import { type PreparedBatch } from "../station/log";
import { forgetPartitionCount, partitionCount, partitionInRange, partitionStub } from "./objects";
import { planParts, type ProducePart } from "./produce-plan";

/** What one part came to: its partition's rulings, or the error that left it unruled. */
type PartOutcome = { part: ProducePart; result: Result<ProduceResponse> } | { part: ProducePart; thrown: unknown };

export async function produceToStation(env: Env, station: string, request: ProduceRequestParts): Promise<Result<ProduceResponse>> {
  const counted = await countFor(env, station, request.partition);
  if (!counted.ok) return counted;
  let partitions = counted.value;
  const all = request.batch.messages.map((_, index) => index);
  let outcomes = await produceParts(env, station, request, planParts(request, all, partitions));
  // A partition above 0 missing: the count was stale (the station was deleted and made again
  // with fewer partitions). Those messages were not ruled anywhere: route them once more.
  const stale = outcomes.filter(isStale);
  if (stale.length > 0) {
    forgetPartitionCount(station);
    const recounted = await partitionCount(env, station);
    if (recounted.ok) {
      partitions = recounted.value;
      const again = stale.flatMap((outcome) => outcome.part.indices);
      outcomes = [...outcomes.filter((outcome) => !isStale(outcome)), ...(await produceParts(env, station, request, planParts(request, again, partitions)))];
    }
  }
  return merge(outcomes, request.batch, partitions);
}

/** The partition count to route by; a request naming a partition is checked against it. */
function countFor(env: Env, station: string, requested: number | null): Promise<Result<number>> {
  return requested === null ? partitionCount(env, station) : partitionInRange(env, station, requested);
}

async function produceParts(env: Env, station: string, request: ProduceRequestParts, parts: ProducePart[]): Promise<PartOutcome[]> {
  return Promise.all(
    parts.map(async (part): Promise<PartOutcome> => {
      const batch: PreparedBatch =
        parts.length === 1 && part.indices.length === request.batch.messages.length
          ? request.batch
          : { producer: request.batch.producer, messages: part.indices.map((index) => request.batch.messages[index]!) };
      try {
        return { part, result: await partitionStub(env, station, part.partition).produce(batch) };
      } catch (thrown) {
        return { part, thrown };
      }
    }),
  );
}

function isStale(outcome: PartOutcome): boolean {
  return outcome.part.partition > 0 && "result" in outcome && !outcome.result.ok && outcome.result.error.code === ErrorCode.StationNotFound;
}

/**
 * The answer: every ruling in batch order. With no part ruled, the first failed part's error
 * (in batch order) is the answer, as it was before partitions (a thrown call throws again).
 */
function merge(outcomes: PartOutcome[], batch: PreparedBatch, partitions: number): Result<ProduceResponse> {
  const inBatchOrder = [...outcomes].sort((a, b) => a.part.indices[0]! - b.part.indices[0]!);
  if (!inBatchOrder.some((outcome) => "result" in outcome && outcome.result.ok)) {
    const first = inBatchOrder[0]!;
    if ("thrown" in first) throw first.thrown;
    return first.result;
  }
  const results = new Array<ProduceResult>(batch.messages.length);
  for (const outcome of inBatchOrder) {
    const { part } = outcome;
    if ("result" in outcome && outcome.result.ok) {
      const rulings = outcome.result.value.results;
      part.indices.forEach((index, i) => {
        results[index] = rulings[i]!;
      });
    } else {
      const unruled = "result" in outcome ? unruledOf(outcome.result.ok ? null : outcome.result.error) : unreachable(outcome.thrown);
      for (const index of part.indices) results[index] = { seq: batch.messages[index]!.seq, partition: part.partition, offset: null, duplicate: false, unruled };
    }
  }
  return ok({ results, partitions });
}

function unruledOf(error: WireError | null): WireError {
  return error ?? { code: ErrorCode.Internal, message: "The partition answered nothing" };
}

function unreachable(thrown: unknown): WireError {
  console.error("produce: a partition could not be reached", thrown);
  return { code: ErrorCode.Unavailable, message: "The partition could not be reached; nothing was ruled: send these messages again" };
}
