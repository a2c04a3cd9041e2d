// Helpers for partitioned stations in workerd: read a partition whole, find keys that land in
// given partitions, and number a producer's seqs per partition as the contract has it.
import { expect } from "vitest";
import { partitionFor } from "../../shared/partitions";
import { api } from "./helpers";

/** Every message of `partition`, in offset order. */
export async function readPartition(station: string, partition: number): Promise<any[]> {
  const messages: any[] = [];
  let from = 1;
  for (;;) {
    const res = await api("GET", `/v1/stations/${station}/messages?partition=${partition}&from=${from}&limit=1000`);
    expect(res.status).toBe(200);
    if (res.body.messages.length === 0) return messages;
    messages.push(...res.body.messages);
    from = res.body.nextOffset;
  }
}

/** A key (`prefix-N`) that routes to `partition` of `partitions`. */
export function keyIn(partition: number, partitions: number, prefix = "k"): string {
  for (let n = 0; ; n++) {
    const key = `${prefix}-${n}`;
    if (partitionFor(key, null, partitions) === partition) return key;
  }
}

/** A producer id whose keyless messages route to `partition` of `partitions`. */
export function producerIn(partition: number, partitions: number, prefix = "p"): string {
  for (let n = 0; ; n++) {
    const producer = `${prefix}-${n}`;
    if (partitionFor(null, producer, partitions) === partition) return producer;
  }
}

/** Numbers a producer's messages per partition (seqs are per (producer, partition)). */
export class PartitionSeqs {
  private readonly next = new Map<number, number>();

  constructor(
    private readonly producer: string,
    private readonly partitions: number,
  ) {}

  /** The seq the message with `key` takes next. */
  take(key: string | null): number {
    const partition = partitionFor(key, this.producer, this.partitions)!;
    const seq = this.next.get(partition) ?? 1;
    this.next.set(partition, seq + 1);
    return seq;
  }
}
