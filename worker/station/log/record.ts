// The station's own row: its name, config and the log's counters, kept in memory and written
// back in the same transaction as the messages they count; and what the station stores in all
// (the log plus the counters of log/storage-usage.ts), which the storage quota bounds.
import type { StationConfig } from "../../../shared/config";
import type { StationStats } from "../../../shared/stations";
import { archiveTotals } from "../archive/index";
import { bytesBesideLog } from "./storage-usage";

interface StationRow {
  name: string;
  config: string;
  created_at: number;
  updated_at: number;
  next_offset: number;
  first_offset: number;
  message_count: number;
  byte_count: number;
  produced_count: number;
  partition: number;
  [column: string]: SqlStorageValue;
}

export class StationRecord {
  name: string;
  config: StationConfig;
  createdAt: number;
  updatedAt: number;
  /** The offset the next message gets. Offsets are dense and never reused. */
  nextOffset: number;
  /** Every offset below it has been trimmed. */
  firstOffset: number;
  messageCount: number;
  byteCount: number;
  producedCount: number;
  /** Which partition of the station this object holds (0 unless partitioned); fixed at creation. */
  readonly partition: number;

  private constructor(
    private readonly sql: SqlStorage,
    row: StationRow,
  ) {
    this.name = row.name;
    this.config = JSON.parse(row.config) as StationConfig;
    this.createdAt = row.created_at;
    this.updatedAt = row.updated_at;
    this.nextOffset = row.next_offset;
    this.firstOffset = row.first_offset;
    this.messageCount = row.message_count;
    this.byteCount = row.byte_count;
    this.producedCount = row.produced_count;
    this.partition = row.partition;
  }

  static load(sql: SqlStorage): StationRecord | null {
    const row = sql.exec<StationRow>("SELECT * FROM station WHERE id = 1").toArray()[0];
    return row ? new StationRecord(sql, row) : null;
  }

  static create(sql: SqlStorage, name: string, config: StationConfig, now: number, partition = 0): StationRecord {
    sql.exec(
      `INSERT INTO station (id, name, config, created_at, updated_at, next_offset, first_offset, message_count, byte_count, produced_count, partition)
       VALUES (1, ?, ?, ?, ?, 1, 1, 0, 0, 0, ?)`,
      name,
      JSON.stringify(config),
      now,
      now,
      partition,
    );
    return StationRecord.load(sql)!;
  }

  get lastOffset(): number {
    return this.nextOffset - 1;
  }

  /**
   * Every byte the storage quota counts: the log's messages (`byteCount`) and, from running
   * counters (one point read), their ids, the dedup window, dead letters, kept copies,
   * producer ids, refusals and doc snapshots. Inside a transaction it includes that
   * transaction's writes.
   */
  storedBytes(): number {
    return this.byteCount + bytesBesideLog(this.sql);
  }

  /** Writes the counters (and config) back; call inside the transaction that changed them. */
  save(sql: SqlStorage): void {
    sql.exec(
      `UPDATE station SET config = ?, updated_at = ?, next_offset = ?, first_offset = ?,
         message_count = ?, byte_count = ?, produced_count = ? WHERE id = 1`,
      JSON.stringify(this.config),
      this.updatedAt,
      this.nextOffset,
      this.firstOffset,
      this.messageCount,
      this.byteCount,
      this.producedCount,
    );
  }

  stats(deadLetters: number, delivered: number, delayed: number): StationStats {
    const archive = archiveTotals(this.sql);
    return {
      firstOffset: this.firstOffset,
      lastOffset: this.lastOffset,
      messages: this.messageCount,
      bytes: this.byteCount,
      produced: this.producedCount,
      deadLetters,
      delivered,
      delayed,
      storedBytes: this.storedBytes(),
      // Held in R2, not in the object: outside the quota, which bounds what the object holds.
      archivedMessages: archive.archivedMessages,
      archivedBytes: archive.archivedBytes,
    };
  }
}
