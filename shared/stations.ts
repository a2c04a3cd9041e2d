// Station info on the wire: `GET /v1/stations/{station}` and the list.
import type { StationConfig } from "./config";
import type { ThroughputBucket } from "./throughput";

export interface StationStats {
  /** Lowest offset still stored; `lastOffset + 1` when the station holds none. */
  firstOffset: number;
  /** Highest offset ever assigned; 0 before the first message. Offsets are never reused. */
  lastOffset: number;
  /** Messages stored now. */
  messages: number;
  /** Bytes stored now (bodies, headers, keys). */
  bytes: number;
  /** Messages ever produced (never decreases with retention). */
  produced: number;
  /** Dead letters stored now. */
  deadLetters: number;
  /** Messages ever handed out to consumers and webhook endpoints (each redelivery counts). */
  delivered: number;
  /** Messages stored with `delayMs` whose time has not come: no group or webhook sees them yet. */
  delayed: number;
  /** What the storage quota counts: `bytes`, plus message ids (log and dedup window), dead
   *  letters, kept copies (for groups and webhook endpoints), producer ids, refusals and a doc
   *  station's snapshot. */
  storedBytes: number;
  /** Messages written to the R2 archive and gone from the object (`retention.archive`): replay
   *  still reads them. Neither they nor `archivedBytes` count towards the storage quota. */
  archivedMessages: number;
  /** Their stored bytes (bodies, headers, keys), as `bytes` counted them. */
  archivedBytes: number;
}

export interface GroupSummary {
  name: string;
  /** Every offset at or below it is acked by the group. */
  ackFloor: number;
  /** Messages leased to a consumer now. */
  pending: number;
  /** Messages not yet handed out. */
  lag: number;
  deadLetters: number;
}

/** One partition of a station: its own log and its groups' share (offsets count within it). */
export interface PartitionInfo {
  partition: number;
  stats: StationStats;
  groups: GroupSummary[];
}

export interface StationInfo {
  name: string;
  config: StationConfig;
  /** Summed over the partitions (firstOffset and lastOffset are partition 0's on a partitioned station). */
  stats: StationStats;
  /** Summed over the partitions (ackFloor is partition 0's on a partitioned station). */
  groups: GroupSummary[];
  /** Each partition on its own (one entry on an unpartitioned station). */
  partitions?: PartitionInfo[];
  /** Produced and delivered counts of the last minutes, per bucket, oldest first (shared/throughput.ts). */
  throughput: ThroughputBucket[];
  createdAt: number;
  updatedAt: number;
}

export interface StationListEntry {
  name: string;
  config: StationConfig;
  createdAt: number;
  updatedAt: number;
}
