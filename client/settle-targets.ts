// How a verdict (ack, nack, extend, dead-letter) names its messages: `offsets` with the epoch
// when every one is partition 0's — the form every station takes, unpartitioned ones included —
// else `messages: [{partition, offset, epoch}]`, which reaches each message's partition.
import type { MessageRef } from "../shared/partitions";

export type SettleTargets = { offsets: number[]; epoch?: number } | { messages: MessageRef[] };

/** The targets of a verdict on `messages`, all handed out in `epoch` (undefined: none named). */
export function settleTargets(messages: readonly { partition: number; offset: number }[], epoch?: number): SettleTargets {
  if (messages.every((m) => m.partition === 0)) {
    const offsets = messages.map((m) => m.offset);
    return epoch === undefined ? { offsets } : { offsets, epoch };
  }
  return { messages: messages.map(({ partition, offset }) => (epoch === undefined ? { partition, offset } : { partition, offset, epoch })) };
}
