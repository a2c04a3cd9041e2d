// Leasing from every partition of a station fairly, for one fetch or one socket push: each
// partition is asked, in parallel, for its share of `max` (the remainder goes to partitions in
// turn, so none starves), and of the byte budget. When some come back short, the rest of `max`
// is asked again of those that gave all they were asked (they may have more), a few rounds at
// most. More partitions than messages left to ask for: the partitions not asked yet are first
// asked, without leasing, whether they have anything, so no lease is taken that `max` has no room
// for. Never waits (worker/partitions/groups-wait.ts does). Within a partition, messages stay in
// the order the partition handed them out (offset order).
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import type { Env } from "../env";
import { isGroupMissing, onPartition, onPartitions } from "./groups-calls";

/** Rounds of leasing one fetch makes at most (the first, then asks again for what came back short). */
export const MAX_LEASE_ROUNDS = 3;

/** Moves the first partition offered the remainder on each lease, across requests of this isolate. */
let turn = 0;

export interface LeaseAsk {
  consumer: string;
  max: number;
  maxBytes: number;
  /** Partitions known to have messages to hand out: asked first. */
  prefer?: readonly number[];
}

export interface Leased {
  /** Wire JSON of each message (it names its partition), partition by partition, each in hand-out order. */
  messages: string[];
}

type PartitionState = "unasked" | "gave-all" | "short";

/**
 * Leases up to `ask.max` messages of `group` from the station's `partitions`. A partition that
 * fails is left out of this lease when others leased: answering an error then would leave their
 * leases with nobody (they would sit until their ack timeout). With nothing leased, the first
 * error is the answer.
 */
export async function leaseFairly(env: Env, station: string, group: string, partitions: number, ask: LeaseAsk): Promise<Result<Leased>> {
  const order = rotated(partitions, ask.prefer ?? []);
  const state = new Map<number, PartitionState>(order.map((p) => [p, "unasked"]));
  const taken = new Map<number, string[]>();
  const budget = { count: ask.max, bytes: ask.maxBytes };
  let firstError: Result<never> | null = null;
  for (let round = 0; round < MAX_LEASE_ROUNDS && budget.count > 0; round++) {
    let candidates = order.filter((p) => state.get(p) !== "short");
    if (round > 0 && candidates.length > budget.count) candidates = await withMessages(env, station, group, candidates, state);
    if (candidates.length === 0) break;
    const shares = fairShares(budget.count, candidates);
    const bytesEach = Math.max(1, Math.floor(budget.bytes / shares.length));
    const answers = await Promise.all(
      shares.map(({ partition, count }) =>
        onPartition(env, station, group, partition, (stub) => stub.groupLease(group, ask.consumer, count, bytesEach)).catch(unreachable),
      ),
    );
    for (const [index, answer] of answers.entries()) {
      const { partition, count } = shares[index]!;
      if (!answer.ok) {
        // Missing on a partition and on partition 0 (groups-calls.ts): the group is gone, whatever the others hold.
        if (isGroupMissing(answer.error)) return answer;
        firstError ??= answer;
        state.set(partition, "short");
        continue;
      }
      const messages = answer.value.messages;
      state.set(partition, messages.length < count ? "short" : "gave-all");
      if (messages.length === 0) continue;
      const list = taken.get(partition);
      if (list) list.push(...messages);
      else taken.set(partition, [...messages]);
      budget.count -= messages.length;
      budget.bytes -= messages.reduce((total, text) => total + text.length, 0);
    }
    if (budget.bytes <= 0) break;
  }
  const messages = [...taken.keys()].sort((a, b) => a - b).flatMap((p) => taken.get(p)!);
  if (messages.length === 0 && firstError) return firstError;
  return ok({ messages });
}

/**
 * `count` split over `partitions` in their order: an equal share each, one more for the first
 * `count % n`; partitions whose share is 0 are not asked.
 */
export function fairShares(count: number, partitions: readonly number[]): Array<{ partition: number; count: number }> {
  const base = Math.floor(count / partitions.length);
  const extra = count % partitions.length;
  return partitions.map((partition, index) => ({ partition, count: base + (index < extra ? 1 : 0) })).filter((share) => share.count > 0);
}

/** Every partition, starting at the next in turn, with `prefer` moved to the front. */
function rotated(partitions: number, prefer: readonly number[]): number[] {
  const start = turn++ % partitions;
  if (turn >= Number.MAX_SAFE_INTEGER) turn = 0;
  const order = Array.from({ length: partitions }, (_, i) => (start + i) % partitions);
  const first = order.filter((p) => prefer.includes(p));
  return [...first, ...order.filter((p) => !prefer.includes(p))];
}

/** The candidates that may have something: those that gave all they were asked, and the unasked that say they have. */
async function withMessages(env: Env, station: string, group: string, candidates: readonly number[], state: Map<number, PartitionState>): Promise<number[]> {
  const unasked = candidates.filter((p) => state.get(p) === "unasked");
  if (unasked.length === 0) return [...candidates];
  const peeked = await onPartitions(env, station, group, unasked, (stub) => stub.groupWatch(group, "peek", 0)).catch(unreachable);
  const ready = new Set(peeked.ok ? peeked.value.filter((answer) => answer.value.ready).map((answer) => answer.partition) : []);
  for (const p of unasked) if (!ready.has(p)) state.set(p, "short");
  return candidates.filter((p) => state.get(p) !== "short");
}

/**
 * A partition whose object could not be reached (overloaded, reset) is a failed partition like
 * one that answered an error: the others' leases still go out.
 */
function unreachable(error: unknown): Result<never> {
  const overloaded = typeof error === "object" && error !== null && (error as { overloaded?: unknown }).overloaded === true;
  if (overloaded) return fail(ErrorCode.RateLimited, "The station is overloaded: retry shortly", { scope: "station", retryAfterSeconds: 1 });
  return fail(ErrorCode.Unavailable, "A partition of the station could not be reached: retry shortly");
}
