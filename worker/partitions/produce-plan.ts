// Which partition each message of a produce batch goes to, as parts: one per partition, each
// with its messages in batch order. The request's `partition` takes the whole batch; else a
// message goes by its key, else by its producer (so a producer's keyless stream stays in one
// partition); a message with neither may go anywhere, and a request's such messages stay
// together, in a partition that rotates from one request to the next.
import { partitionFor } from "../../shared/partitions";
import type { ProduceRequestParts } from "../http/produce-request";

export interface ProducePart {
  partition: number;
  /** Indices in the request's batch, ascending. */
  indices: number[];
}

/** Where the next request's unrouted messages go; per isolate, spread is all it is for. */
let rotation = 0;

/** The parts of the messages at `indices` (ascending) of `request`, for a station of `partitions`. */
export function planParts(request: ProduceRequestParts, indices: readonly number[], partitions: number): ProducePart[] {
  if (request.partition !== null) return [{ partition: request.partition, indices: [...indices] }];
  if (partitions <= 1) return [{ partition: 0, indices: [...indices] }];
  const byPartition = new Map<number, number[]>();
  let anywhere: number | null = null;
  for (const index of indices) {
    let partition = partitionFor(request.keys[index], request.batch.producer, partitions);
    if (partition === null) {
      anywhere ??= rotation++ % partitions;
      partition = anywhere;
    }
    const part = byPartition.get(partition);
    if (part) part.push(index);
    else byPartition.set(partition, [index]);
  }
  return [...byPartition].map(([partition, part]) => ({ partition, indices: part }));
}
