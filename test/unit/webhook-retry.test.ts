// The webhook retry rules and secret format: delays with jitter from the schedule, Retry-After
// in both of its forms and within bounds, and which secrets the PUT accepts.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_SCHEDULE_MS, MAX_RETRY_AFTER_MS, PutWebhookRequestSchema, secretByteLength } from "../../shared/webhooks";
import { nextRetryDelayMs, parseRetryAfterMs } from "../../worker/station/webhooks/retry";

describe("retry delays", () => {
  it("follows the schedule, stretched by at most 20 % of jitter, and stops after its last entry", () => {
    const schedule = [1000, 5000];
    expect(nextRetryDelayMs(schedule, 1, null, () => 0)).toBe(1000);
    expect(nextRetryDelayMs(schedule, 1, null, () => 0.999)).toBe(1200);
    expect(nextRetryDelayMs(schedule, 2, null, () => 0.5)).toBe(5500);
    expect(nextRetryDelayMs(schedule, 3, null)).toBeNull();
    expect(nextRetryDelayMs([], 1, null)).toBeNull();
  });

  it("waits what Retry-After asks instead, as long as retries are left", () => {
    expect(nextRetryDelayMs([10, 10], 1, 30_000)).toBe(30_000);
    expect(nextRetryDelayMs([10, 10], 3, 30_000)).toBeNull();
  });

  it("has a default in the spirit of Svix: within seconds, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h", () => {
    expect(DEFAULT_RETRY_SCHEDULE_MS).toEqual([1000, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  });
});

describe("Retry-After", () => {
  const now = Date.parse("2026-11-22T10:00:00Z");
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfterMs("120", now)).toBe(120_000);
    expect(parseRetryAfterMs(" 0 ", now)).toBe(0);
    expect(parseRetryAfterMs("Sun, 22 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
  });
  it("cuts long asks to an hour and past dates to zero, and ignores what it cannot read", () => {
    expect(parseRetryAfterMs("86400", now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfterMs("Sun, 22 Nov 2026 09:00:00 GMT", now)).toBe(0);
    expect(parseRetryAfterMs("soon", now)).toBeNull();
    expect(parseRetryAfterMs("-5", now)).toBeNull();
    expect(parseRetryAfterMs(null, now)).toBeNull();
  });
});

describe("webhook secrets", () => {
  const base64Of = (n: number) => btoa("k".repeat(n));
  it("counts the bytes of standard base64 with padding", () => {
    expect(secretByteLength("whsec_" + base64Of(24))).toBe(24);
    expect(secretByteLength(base64Of(33))).toBe(33);
    expect(secretByteLength("whsec_" + base64Of(32).replace(/=+$/, ""))).toBeNull();
    expect(secretByteLength("whsec_abc-_def")).toBeNull();
  });
  it("accepts 24–64 bytes with or without whsec_, and stores it with the prefix", () => {
    const parse = (secret: string) => v.safeParse(PutWebhookRequestSchema, { url: "https://x.example/", secret });
    expect(parse(base64Of(24)).output).toMatchObject({ secret: "whsec_" + base64Of(24) });
    expect(parse("whsec_" + base64Of(64)).success).toBe(true);
    expect(parse("whsec_" + base64Of(23)).success).toBe(false);
    expect(parse("whsec_" + base64Of(65)).success).toBe(false);
  });
});
