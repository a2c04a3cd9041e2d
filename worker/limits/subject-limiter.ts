// Per-token-subject rates, kept in this isolate's memory: no storage, no round trip, so the
// produce hot path pays a map lookup. Bounded: the least recently seen subjects are dropped
// first (a dropped subject starts again with a full bucket, which only errs towards letting in).
import type { Rates } from "../../shared/rate-limits";
import { RateGate } from "./rate-gate";

/** Most subjects remembered per isolate. */
const MAX_SUBJECTS = 10_000;

export class SubjectLimiter {
  private readonly gates = new Map<string, RateGate>();

  /** Admits one request of `bytes` for `subject` (0) or says how many ms it must wait. */
  admit(subject: string, rates: Rates, bytes: number, nowMs: number): number {
    let gate = this.gates.get(subject);
    if (gate) {
      this.gates.delete(subject); // re-inserted below: Map order is recency order
      gate.configure(rates, nowMs);
    } else {
      gate = new RateGate(rates, nowMs);
      if (this.gates.size >= MAX_SUBJECTS) this.evict(nowMs);
    }
    this.gates.set(subject, gate);
    return gate.admit(bytes, nowMs);
  }

  get size(): number {
    return this.gates.size;
  }

  /** Drops idle subjects, or failing that the least recently seen tenth (amortises the scan). */
  private evict(nowMs: number): void {
    for (const [subject, gate] of this.gates) {
      if (gate.isIdle(nowMs)) this.gates.delete(subject);
    }
    if (this.gates.size < MAX_SUBJECTS) return;
    let drop = Math.ceil(MAX_SUBJECTS / 10);
    for (const subject of this.gates.keys()) {
      if (drop-- <= 0) break;
      this.gates.delete(subject);
    }
  }
}
