import { describe, expect, it } from "vitest";
import { planSeqs } from "../../shared/producers";

describe("planSeqs", () => {
  it("accepts the next seq with no duplicates", () => {
    expect(planSeqs(0, [1, 2, 3])).toEqual({ ok: true, duplicates: 0 });
    expect(planSeqs(5, [6])).toEqual({ ok: true, duplicates: 0 });
  });
  it("counts a resent prefix as duplicates", () => {
    expect(planSeqs(3, [2, 3, 4, 5])).toEqual({ ok: true, duplicates: 2 });
    expect(planSeqs(9, [2, 3])).toEqual({ ok: true, duplicates: 2 });
  });
  it("refuses a batch that skips ahead, naming where to resume", () => {
    expect(planSeqs(3, [5, 6])).toEqual({ ok: false, reason: "seq_gap", index: 0, expectedSeq: 4, receivedSeq: 5 });
    expect(planSeqs(0, [2])).toMatchObject({ ok: false, reason: "seq_gap", expectedSeq: 1 });
  });
  it("refuses seqs that do not increase by one within a batch", () => {
    expect(planSeqs(0, [1, 3])).toEqual({ ok: false, reason: "seq_order", index: 1 });
    expect(planSeqs(0, [2, 1])).toEqual({ ok: false, reason: "seq_order", index: 1 });
    expect(planSeqs(0, [1, 1])).toEqual({ ok: false, reason: "seq_order", index: 1 });
  });
});
