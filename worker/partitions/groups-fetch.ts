// `POST …/groups/{group}/fetch` on a partitioned station. The piggybacked `ack` is applied
// first (numbers name partition 0, refs their own partition), then messages are leased from
// every partition fairly (groups-lease.ts). With nothing to hand out and `waitMs` left, the
// Worker waits on every partition without leasing (groups-wait.ts), then leases once more;
// a few wake-ups at most, never past the request's `waitMs`.
import { ok, type Result } from "../../shared/errors";
import { MAX_FETCH_BYTES } from "../../shared/limits";
import type { MessageRef } from "../../shared/partitions";
import type { Env } from "../env";
import { messagesJson } from "../station/groups";
import { leaseFairly } from "./groups-lease";
import { ackOnPartitions, splitByPartition } from "./groups-settle";
import { waitForMessages } from "./groups-wait";

/** Wake-ups one long-poll follows at most (each: a wait on every partition, then a lease). */
export const MAX_WAKE_ROUNDS = 4;

export interface PartitionedFetch {
  consumer: string;
  max: number;
  waitMs: number;
  ack: ReadonlyArray<number | MessageRef>;
  ackEpoch?: number;
}

/** The fetch answer as wire JSON (`{"messages":[…],"acked":n}`), messages partition by partition. */
export async function fetchPartitioned(
  env: Env,
  station: string,
  group: string,
  partitions: number,
  request: PartitionedFetch,
  defer?: (work: Promise<unknown>) => void,
): Promise<Result<string>> {
  const startedAt = Date.now();
  let acked: number | undefined;
  if (request.ack.length > 0) {
    const refs = request.ack.map((a) => (typeof a === "number" ? { partition: 0, offset: a, ...(request.ackEpoch === undefined ? {} : { epoch: request.ackEpoch }) } : a));
    const split = splitByPartition({ messages: refs }, partitions);
    if (!split.ok) return split;
    const answer = await ackOnPartitions(env, station, group, split.value);
    if (!answer.ok) return answer;
    acked = answer.value.acked;
  }
  const ask = { consumer: request.consumer, max: request.max, maxBytes: MAX_FETCH_BYTES };
  let leased = await leaseFairly(env, station, group, partitions, ask);
  if (!leased.ok) return leased;
  const deadline = startedAt + request.waitMs;
  for (let wake = 0; wake < MAX_WAKE_ROUNDS && leased.value.messages.length === 0; wake++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const ready = await waitForMessages(env, station, group, partitions, left, { id: crypto.randomUUID(), defer });
    if (!ready.ok) return ready;
    leased = await leaseFairly(env, station, group, partitions, { ...ask, prefer: ready.value });
    if (!leased.ok) return leased;
    if (ready.value.length === 0) break;
  }
  return ok(messagesJson(leased.value.messages, acked));
}
