// Partitions: one station spread over several Durable Objects, one per partition. Which
// partition a message goes to is decided here, once, for the worker and the SDK alike.
//
// The hash is 32-bit FNV-1a over the key's UTF-8 bytes: well known, fast, no tables, and its
// published test vectors pin it (test/unit/partitions.test.ts). It only spreads keys; it is not
// a security boundary.
import * as v from "valibot";
import { MAX_ACK_OFFSETS } from "./limits";
import { intInRange, nonNegativeInt, positiveInt } from "./numbers";

/**
 * Most partitions a station may have. A group fetch, a station's info and a config change each
 * reach every partition from one Worker request, so the count bounds that fan-out: a plain fetch
 * makes one call per partition, a fetch carrying acks two, and a long-poll that wakes its most
 * (watch, unwatch and lease per partition, up to 4 times) 24, so at 32 partitions the worst
 * request stays under the paid plan's 1,000 subrequests. On the free plan (50) keep to 2
 * partitions where consumers long-poll. 32 × ~1,000 requests/s per object is beyond what one
 * station's consumers usually take. docs/scaling.md has the model.
 */
export const MAX_PARTITIONS = 32;

/** `partitions` in a station's config: 1 (the default) to MAX_PARTITIONS. It may grow, never shrink. */
export const PartitionCountSchema = intInRange(1, MAX_PARTITIONS);
/** A partition's index: 0 to MAX_PARTITIONS - 1 (0 on an unpartitioned station). */
export const PartitionSchema = intInRange(0, MAX_PARTITIONS - 1);

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit FNV-1a of `text`'s UTF-8 bytes, as an unsigned integer. fnv1a32("a") === 0xe40c292c. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  const add = (byte: number) => {
    hash = Math.imul(hash ^ byte, FNV_PRIME);
  };
  // UTF-8 by hand (shared/ needs no platform library); a lone surrogate is U+FFFD, as TextEncoder has it.
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else code = 0xfffd;
    }
    if (code < 0x80) add(code);
    else if (code < 0x800) {
      add(0xc0 | (code >> 6));
      add(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      add(0xe0 | (code >> 12));
      add(0x80 | ((code >> 6) & 0x3f));
      add(0x80 | (code & 0x3f));
    } else {
      add(0xf0 | (code >> 18));
      add(0x80 | ((code >> 12) & 0x3f));
      add(0x80 | ((code >> 6) & 0x3f));
      add(0x80 | (code & 0x3f));
    }
  }
  return hash >>> 0;
}

/**
 * The partition of a message: by its key, else by its producer (so a producer's keyless
 * messages stay in order), else none (`null`: an unsequenced, keyless, producerless message may
 * go to any partition).
 */
export function partitionFor(key: string | null | undefined, producer: string | null | undefined, partitions: number): number | null {
  if (partitions <= 1) return 0;
  const by = key ?? producer;
  if (by === null || by === undefined) return null;
  return fnv1a32(by) % partitions;
}

/** A message named by its partition and its offset there, as acks, nacks, extends and dead-letters take it. */
export const MessageRefSchema = v.strictObject({
  partition: PartitionSchema,
  offset: positiveInt,
  /** The group epoch the message carried (as `epoch` of an offsets-form ack). */
  epoch: v.optional(nonNegativeInt),
});
export type MessageRef = v.InferOutput<typeof MessageRefSchema>;

/** `messages: [{partition, offset}, …]`: the form of acks and nacks that reaches every partition. */
export const MessageRefListSchema = v.pipe(
  v.array(MessageRefSchema),
  v.minLength(1, "Name at least one message"),
  v.maxLength(MAX_ACK_OFFSETS, `At most ${MAX_ACK_OFFSETS} messages per request`),
);

/**
 * The messages a settle request names, in either form: `offsets` (partition 0, with the
 * request's `epoch`) or `messages` (each with its partition and its own epoch).
 */
export function messageRefsOf(request: { offsets?: number[]; messages?: MessageRef[]; epoch?: number }): MessageRef[] {
  if (request.messages) return request.messages;
  return (request.offsets ?? []).map((offset) => (request.epoch === undefined ? { partition: 0, offset } : { partition: 0, offset, epoch: request.epoch }));
}

/** The messages of `refs` per partition, each partition's offsets in the order given. */
export function refsByPartition(refs: readonly MessageRef[]): Map<number, MessageRef[]> {
  const byPartition = new Map<number, MessageRef[]>();
  for (const ref of refs) {
    const list = byPartition.get(ref.partition);
    if (list) list.push(ref);
    else byPartition.set(ref.partition, [ref]);
  }
  return byPartition;
}
