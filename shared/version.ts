// The protocol version both sides speak. Optional fields may be added without a bump;
// removing or changing the meaning of one needs a bump and a line below.
//
// History:
//   1 — stations, produce with (producer, seq) exactly-once, replay, groups, DLS, webhooks.
//   2 — a sequenced message the station will not store is ruled `refused` in a 200 and its seq
//       consumed (no more whole-batch 413/422 for sequenced producers); `seq_conflict` when a
//       resent seq carries another action id; clients treat only protocol-stamped answers as rulings.
//   3 — partitions: every message read, fetched, dead-lettered or delivered carries `partition`,
//       and every produce result the partition that ruled it (offsets count per partition); acks,
//       nacks, extends and dead-letters also take `messages: [{partition, offset}]`; a produce result
//       may be `unruled` (its partition was not reached: send it again).
export const PROTOCOL_VERSION = 3 as const;

/**
 * Hash of the structure of every valibot schema exported by shared/, for the version named.
 * test/unit/protocol-version.test.ts recomputes it: when a schema changes, bump PROTOCOL_VERSION,
 * add its history line above, then record the new hash here with that version.
 */
export const PROTOCOL_SCHEMA_HASH = { version: 3, hash: "ef6f7669486a31abcba6e3f1ad05f06f1409508026b02ef4d25a4a4c44effd26" } as const;

/** Header a client may send to say which protocol it speaks; the server answers with its own. */
export const PROTOCOL_HEADER = "waystation-protocol";
