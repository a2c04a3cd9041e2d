// A station's recent throughput on the wire: produced and delivered counts per fixed bucket,
// oldest first, as `GET /v1/stations/{station}` answers them in `throughput`.

/** Width of one bucket. */
export const THROUGHPUT_BUCKET_MS = 10_000;
/** Buckets a station keeps and reports: 60 × 10 s = the last 10 minutes. */
export const THROUGHPUT_BUCKETS = 60;

export interface ThroughputBucket {
  /** Start of the bucket, milliseconds since the Unix epoch (a multiple of THROUGHPUT_BUCKET_MS). */
  at: number;
  /** Messages appended to the log in the bucket (duplicates and refused batches not counted). */
  produced: number;
  /** Messages handed out to consumers and webhook endpoints in the bucket (each redelivery counts). */
  delivered: number;
}

/** Start of the bucket that holds `time`. */
export function throughputBucketAt(time: number): number {
  return time - (time % THROUGHPUT_BUCKET_MS);
}
