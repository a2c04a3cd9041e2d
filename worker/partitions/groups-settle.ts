// Ack, nack, extend and dead-letter on a partitioned station: the request's messages are split
// by partition (`offsets` name partition 0), each partition's object settles its own in
// parallel, and the counts are summed (`extend`'s `leaseUntil`: the latest). Refs are checked
// whole before any call (a partition out of range, mixed epochs in one partition), so a bad
// request changes nothing. One partition failing answers its error while the others have
// settled theirs: every settle is idempotent, so sending the request again is safe.
import { ok, type Result } from "../../shared/errors";
import type { AckResponse, DeadLetterResponse, ExtendResponse, NackResponse } from "../../shared/groups";
import { type MessageRef, messageRefsOf, refsByPartition } from "../../shared/partitions";
import type { Env } from "../env";
import { type OwnOffsets, ownOffsets } from "../station/groups";
import { onPartitions, type PartitionStub } from "./groups-calls";
import { checkPartition } from "./objects";

/** A settle request in either form: `offsets` (partition 0, with `epoch`) or `messages`. */
export interface SettleTargets {
  offsets?: number[];
  messages?: MessageRef[];
  epoch?: number;
}

/** The request's offsets per partition, checked: every partition exists, one epoch per partition. */
export function splitByPartition(request: SettleTargets, partitions: number): Result<Map<number, OwnOffsets>> {
  const byPartition = new Map<number, OwnOffsets>();
  if ((request.offsets === undefined) === (request.messages === undefined)) return ownOffsets(request, 0) as Result<never>;
  for (const [partition, refs] of refsByPartition(messageRefsOf(request))) {
    const inRange = checkPartition(partition, partitions);
    if (!inRange.ok) return inRange;
    const own = ownOffsets({ messages: refs }, partition);
    if (!own.ok) return own;
    byPartition.set(partition, own.value);
  }
  return ok(byPartition);
}

/** Calls `call` with each partition's own offsets, in parallel; the answers in partition order. */
async function settleEach<T>(
  env: Env,
  station: string,
  group: string,
  split: Map<number, OwnOffsets>,
  call: (stub: PartitionStub, own: OwnOffsets) => Promise<Result<T>>,
): Promise<Result<T[]>> {
  const partitions = [...split.keys()].sort((a, b) => a - b);
  const answers = await onPartitions(env, station, group, partitions, (stub, partition) => call(stub, split.get(partition)!));
  return answers.ok ? ok(answers.value.map((answer) => answer.value)) : answers;
}

const sum = <T>(values: readonly T[], of: (value: T) => number) => values.reduce((total, value) => total + of(value), 0);

export async function ackOnPartitions(env: Env, station: string, group: string, split: Map<number, OwnOffsets>): Promise<Result<AckResponse>> {
  const answers = await settleEach(env, station, group, split, (stub, own) => stub.groupAck(group, own.offsets, own.epoch));
  return answers.ok ? ok({ acked: sum(answers.value, (a) => a.acked) }) : answers;
}

export async function nackOnPartitions(env: Env, station: string, group: string, split: Map<number, OwnOffsets>, delayMs: number): Promise<Result<NackResponse>> {
  const answers = await settleEach(env, station, group, split, (stub, own) => stub.groupNack(group, own.offsets, delayMs, own.epoch));
  return answers.ok ? ok({ nacked: sum(answers.value, (a) => a.nacked) }) : answers;
}

export async function extendOnPartitions(env: Env, station: string, group: string, split: Map<number, OwnOffsets>, consumer: string): Promise<Result<ExtendResponse>> {
  const answers = await settleEach(env, station, group, split, (stub, own) => stub.groupExtend(group, consumer, own.offsets, own.epoch));
  if (!answers.ok) return answers;
  return ok({ extended: sum(answers.value, (a) => a.extended), leaseUntil: Math.max(0, ...answers.value.map((a) => a.leaseUntil)) });
}

export async function deadLetterOnPartitions(env: Env, station: string, group: string, split: Map<number, OwnOffsets>, reason: string): Promise<Result<DeadLetterResponse>> {
  const answers = await settleEach(env, station, group, split, (stub, own) => stub.groupDeadLetter(group, own.offsets, reason, own.epoch));
  return answers.ok ? ok({ deadLettered: sum(answers.value, (a) => a.deadLettered) }) : answers;
}
