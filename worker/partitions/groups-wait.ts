// Waiting for a group of a partitioned station to have something to hand out, on every
// partition at once, leasing nothing: each partition's object is asked to answer as soon as the
// group has a message there (`groupWatch`). The first partition that has one ends the wait, and
// the others' waits are ended too (`groupUnwatch`), so nothing is left waiting in the objects.
// A lease taken by a wait whose answer nobody reads would sit leased until its ack timeout;
// a watch holds nothing.
import { ok, type Result } from "../../shared/errors";
import type { Env } from "../env";
import { allPartitions, onPartition } from "./groups-calls";
import { partitionStub } from "./objects";

export interface WaitOptions {
  /** Names the wait in the objects; a later wait of the same id replaces it (a socket reuses its own). */
  id: string;
  /** Keeps the calls that end the other partitions' waits running after the answer (ctx.waitUntil). */
  defer?: (work: Promise<unknown>) => void;
  /** Resolves when the caller stops listening (a socket closed): the wait ends at once. */
  abandoned?: Promise<void>;
}

/**
 * Waits up to `waitMs` until some partition of the station has something for `group`; answers
 * those that said so first (empty when the time ran out or the caller went away). An error on a
 * partition (the group or station gone) ends the wait with that error.
 */
export async function waitForMessages(env: Env, station: string, group: string, partitions: number, waitMs: number, options: WaitOptions): Promise<Result<number[]>> {
  const every = allPartitions(partitions);
  const answered = new Set<number>();
  const outcome = await new Promise<Result<number[]>>((resolve) => {
    let open = every.length;
    for (const partition of every) {
      onPartition(env, station, group, partition, (stub) => stub.groupWatch(group, options.id, waitMs)).then(
        (answer) => {
          answered.add(partition);
          if (!answer.ok) return resolve(answer);
          if (answer.value.ready) return resolve(ok([partition]));
          if (--open === 0) resolve(ok([]));
        },
        () => {
          // An object that could not be reached is one wake-up source less; the lease after the
          // wait reaches it again and answers its error if it still has one.
          answered.add(partition);
          if (--open === 0) resolve(ok([]));
        },
      );
    }
    options.abandoned?.then(() => resolve(ok([])));
  });
  const still = every.filter((partition) => !answered.has(partition));
  if (still.length > 0) {
    const ending = Promise.allSettled(still.map((partition) => partitionStub(env, station, partition).groupUnwatch(group, options.id)));
    if (options.defer) options.defer(ending);
  }
  return outcome;
}
