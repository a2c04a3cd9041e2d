// What a settle request (ack, nack, extend, dead-letter) names in this object's partition. The
// request names its messages by `offsets` (partition 0) or by `messages: [{partition, offset}]`;
// the Worker splits a request over partitions before it reaches an object, so a ref to another
// partition here is the caller's mistake and refused, never silently dropped.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { type MessageRef, messageRefsOf } from "../../../shared/partitions";

export interface OwnOffsets {
  offsets: number[];
  /** The group epoch the messages carried; null when they named none. */
  epoch: number | null;
}

export function ownOffsets(request: { offsets?: number[]; messages?: MessageRef[]; epoch?: number }, partition: number): Result<OwnOffsets> {
  if ((request.offsets === undefined) === (request.messages === undefined)) {
    return fail(ErrorCode.InvalidRequest, "Name the messages either by offsets or by messages ([{partition, offset}]), not both");
  }
  const refs = messageRefsOf(request);
  const foreign = refs.find((ref) => ref.partition !== partition);
  if (foreign) return fail(ErrorCode.PartitionOutOfRange, `Partition ${foreign.partition} is not held here (this is partition ${partition})`, { partition: foreign.partition });
  // One fetch hands a partition's messages out in one epoch; an ack mixing epochs mixes fetches across a seek.
  const epochs = new Set(refs.map((ref) => ref.epoch ?? null));
  if (epochs.size > 1) return fail(ErrorCode.InvalidRequest, "The messages of one partition in one request must carry the same epoch");
  return ok({ offsets: refs.map((ref) => ref.offset), epoch: [...epochs][0] ?? null });
}
