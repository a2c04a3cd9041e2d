// The producer/seq rule, written once: given the last seq a station stored for a producer,
// what it does with a batch's seqs. Invariant 2 of the design: each seq stored once, in order.

export type SeqPlan =
  /** The first `duplicates` seqs were stored before; the rest are new and follow on with no gap. */
  | { ok: true; duplicates: number }
  /** The seq at `index` skips ahead: nothing is stored, the producer resumes at `expectedSeq`. */
  | { ok: false; reason: "seq_gap"; index: number; expectedSeq: number; receivedSeq: number }
  /** The seqs of the batch do not strictly increase by one: the producer is broken. */
  | { ok: false; reason: "seq_order"; index: number };

/**
 * Plans a batch against the producer's last stored seq (0 if none).
 * Seqs must be consecutive within a batch; those ≤ `lastSeq` are duplicates.
 *
 * @example planSeqs(3, [2, 3, 4, 5]) // → { ok: true, duplicates: 2 }
 * @example planSeqs(3, [5, 6])       // → seq_gap, expectedSeq 4
 */
export function planSeqs(lastSeq: number, seqs: readonly number[]): SeqPlan {
  for (let i = 1; i < seqs.length; i++) {
    if (seqs[i] !== seqs[i - 1]! + 1) return { ok: false, reason: "seq_order", index: i };
  }
  const first = seqs[0];
  if (first === undefined) return { ok: true, duplicates: 0 };
  if (first > lastSeq + 1) {
    return { ok: false, reason: "seq_gap", index: 0, expectedSeq: lastSeq + 1, receivedSeq: first };
  }
  return { ok: true, duplicates: Math.min(seqs.length, lastSeq - first + 1) };
}

/**
 * The codes a station may rule a sequenced message refused with. Each is a property of the
 * message itself (its size, its body, its shape), so ruling it once and keeping the ruling is
 * safe. Everything else a request can meet (tokens, rates, quotas, a missing station, a proxy)
 * is a property of the moment: it settles nothing, and the producer retries in order.
 */
export const REFUSAL_CODES = ["message_too_large", "schema_violation", "invalid_doc_update", "invalid_request"] as const;
export type RefusalCode = (typeof REFUSAL_CODES)[number];

export function isRefusalCode(code: string): code is RefusalCode {
  return (REFUSAL_CODES as readonly string[]).includes(code);
}
