// What a station lets in: its request and byte rates (an in-memory token bucket in the object,
// which sees every request to its station, so the limit is exact and costs no round trip) and
// its storage quota over every table it keeps (checked inside the produce transaction, so a
// refused batch leaves nothing behind and a resent duplicate is still answered). Rates reset
// when the object is evicted; the quota's counters are stored. Neither is asked about a batch
// whose seqs were all ruled before: the Station answers it from its rulings first (rulings.ts).
import type { StationConfig } from "../../../shared/config";
import { ErrorCode, type Result, fail, ok } from "../../../shared/errors";
import { DEFAULT_STATION_BYTES_PER_SECOND, DEFAULT_STATION_REQUESTS_PER_SECOND } from "../../../shared/limits";
import { type Rates, resolveRates } from "../../../shared/rate-limits";
import type { EnvVars } from "../../env-vars";
import { stationStorageCeilingBytes } from "../../limits/operator-limits";
import { RateGate, retryAfterSeconds } from "../../limits/rate-gate";
import type { PreparedBatch } from "./batch";
import type { StationRecord } from "./record";

const DEFAULT_STATION_RATES: Rates = {
  requestsPerSecond: DEFAULT_STATION_REQUESTS_PER_SECOND,
  bytesPerSecond: DEFAULT_STATION_BYTES_PER_SECOND,
};

export class StationAdmission {
  private gate: RateGate | null = null;

  constructor(private readonly env: Pick<EnvVars, "STATION_MAX_STORAGE_BYTES">) {}

  /** Admits one request carrying `bytes` (0 for reads), or refuses it with 429 and when to retry. */
  admit(config: StationConfig | undefined, bytes: number, nowMs: number): Result<void> {
    const rates = resolveRates(config?.rateLimit, DEFAULT_STATION_RATES);
    if (this.gate) this.gate.configure(rates, nowMs);
    else this.gate = new RateGate(rates, nowMs);
    const waitMs = this.gate.admit(bytes, nowMs);
    if (waitMs === 0) return ok(undefined);
    const seconds = retryAfterSeconds(waitMs);
    return fail(ErrorCode.RateLimited, `This station is over its rate: retry in ${seconds} s`, { scope: "station", retryAfterSeconds: seconds });
  }

  /** Admits a produce batch: one request, its stored bytes. */
  admitBatch(config: StationConfig | undefined, batch: PreparedBatch, nowMs: number): Result<void> {
    let bytes = 0;
    for (const message of batch.messages) bytes += message.bytes;
    return this.admit(config, bytes, nowMs);
  }

  /** The quota in force: the station's own, capped by the operator's ceiling. */
  quotaBytes(config: StationConfig): number {
    const ceiling = stationStorageCeilingBytes(this.env);
    return Math.min(config.maxStorageBytes ?? ceiling, ceiling);
  }

  /**
   * Wraps a produce: if it grew what the station stores (storedBytes: the log and every table
   * beside it — ids, dead letters, kept copies, producers, refusals) past the quota, its result
   * turns into 507 `quota_exceeded`, which rolls the whole transaction back: nothing is
   * written. A write that adds no bytes (a resent batch, all duplicates) always passes.
   */
  withinQuota<T>(work: (record: StationRecord) => Result<T>): (record: StationRecord) => Result<T> {
    return (record) => {
      const bytesBefore = record.storedBytes();
      const result = work(record);
      if (!result.ok) return result;
      const bytesAfter = record.storedBytes();
      if (bytesAfter <= bytesBefore) return result;
      const quota = this.quotaBytes(record.config);
      if (bytesAfter <= quota) return result;
      return fail(ErrorCode.QuotaExceeded, `This station's storage quota of ${quota} bytes is used up: free space (retention, DELETE, drop dead letters) or raise maxStorageBytes`, {
        quotaBytes: quota,
        storedBytes: bytesBefore,
        batchBytes: bytesAfter - bytesBefore,
      });
    };
  }
}
