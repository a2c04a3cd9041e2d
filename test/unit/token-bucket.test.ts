// The rate-limiting primitive with a fake clock: refill, burst, debt for oversized costs, and
// the wait it reports (which becomes Retry-After).
import { describe, expect, it } from "vitest";
import { RateGate, retryAfterSeconds } from "../../worker/limits/rate-gate";
import { SubjectLimiter } from "../../worker/limits/subject-limiter";
import { TokenBucket } from "../../worker/limits/token-bucket";

describe("TokenBucket", () => {
  it("lets a full bucket's worth through at once, then one per refill", () => {
    const bucket = new TokenBucket(10, 20, 0);
    for (let i = 0; i < 20; i++) {
      expect(bucket.waitMs(1, 0)).toBe(0);
      bucket.take(1);
    }
    expect(bucket.waitMs(1, 0)).toBe(100);
    expect(bucket.waitMs(1, 100)).toBe(0);
  });

  it("never refills past its capacity", () => {
    const bucket = new TokenBucket(10, 20, 0);
    bucket.take(20);
    expect(bucket.isFull(1_000_000)).toBe(true);
    bucket.take(21);
    expect(bucket.waitMs(1, 1_000_000)).toBe(200);
  });

  it("lets a cost larger than the bucket through when full, and makes the next caller wait for the debt", () => {
    const bucket = new TokenBucket(100, 200, 0);
    expect(bucket.waitMs(1000, 0)).toBe(0);
    bucket.take(1000);
    // 800 in debt, plus 1 for the next request, at 100/s.
    expect(bucket.waitMs(1, 0)).toBe(8010);
  });

  it("keeps what it holds when the rate changes, up to the new capacity", () => {
    const bucket = new TokenBucket(10, 20, 0);
    bucket.configure(1, 2, 0);
    bucket.take(2);
    expect(bucket.waitMs(1, 0)).toBe(1000);
  });
});

describe("RateGate", () => {
  it("takes nothing from either bucket when one of them refuses", () => {
    const gate = new RateGate({ requestsPerSecond: 1, bytesPerSecond: 10 }, 0);
    expect(gate.admit(20, 0)).toBe(0); // 20 bytes of a 20-byte bucket
    expect(gate.admit(5, 0)).toBeGreaterThan(0); // bytes refuse; the request bucket keeps its token
    expect(gate.admit(0, 0)).toBe(0);
  });

  it("rounds waits up to whole seconds, at least one", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });
});

describe("SubjectLimiter", () => {
  it("keeps subjects apart and forgets idle ones first when full", () => {
    const limiter = new SubjectLimiter();
    const rates = { requestsPerSecond: 1, bytesPerSecond: 1000 };
    expect(limiter.admit("a", rates, 0, 0)).toBe(0);
    expect(limiter.admit("a", rates, 0, 0)).toBe(0);
    expect(limiter.admit("a", rates, 0, 0)).toBeGreaterThan(0);
    expect(limiter.admit("b", rates, 0, 0)).toBe(0);
    for (let i = 0; i < 10_100; i++) limiter.admit(`s${i}`, rates, 0, 10_000 + i);
    expect(limiter.size).toBeLessThanOrEqual(10_000);
  });
});
