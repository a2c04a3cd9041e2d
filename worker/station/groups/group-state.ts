// A group's own row: its cursor (the next offset never handed out), its overrides of the
// station's settings, its start position and its counters. Groups are created only by PUT
// (the manage right; at most MAX_GROUPS_PER_STATION) and deleted only on request: never for
// idleness (a reset cursor loses the place), never by a consumer's fetch or subscribe.
import type { StationConfig } from "../../../shared/config";
import type { GroupConfig, StartPosition } from "../../../shared/groups";
import type { StationRecord } from "../log/record";
import { forgetConsumers } from "./consumers-seen";

export interface GroupRow {
  name: string;
  next_offset: number;
  /** JSON of the StartPosition it was created with. */
  start: string;
  ack_timeout_ms: number | null;
  max_deliveries: number | null;
  delivered: number;
  acked: number;
  dead_lettered: number;
  /** Ran out of deliveries with `dls.onMaxDeliveries` off: dropped, counted here. */
  discarded: number;
  /** Trimmed by retention before the group handed them out or got their ack. */
  skipped: number;
  /** Times the group was moved (seek); deliveries record the epoch they were handed out in. */
  epoch: number;
  created_at: number;
  updated_at: number;
  [column: string]: SqlStorageValue;
}

/** The settings in force for a group: its overrides, else the station's. */
export interface GroupSettings {
  ackTimeoutMs: number;
  maxDeliveries: number;
  /** Out of deliveries: to the DLS (true) or dropped and counted (false). */
  deadLetterOnMax: boolean;
}

export function settingsOf(group: GroupRow, config: StationConfig): GroupSettings {
  return {
    ackTimeoutMs: group.ack_timeout_ms ?? config.ackTimeoutMs,
    maxDeliveries: group.max_deliveries ?? config.maxDeliveries,
    deadLetterOnMax: config.dls.onMaxDeliveries,
  };
}

export function loadGroup(sql: SqlStorage, name: string): GroupRow | null {
  return sql.exec<GroupRow>("SELECT * FROM groups WHERE name = ?", name).toArray()[0] ?? null;
}

export function loadGroups(sql: SqlStorage): GroupRow[] {
  return sql.exec<GroupRow>("SELECT * FROM groups ORDER BY name").toArray();
}

export function countGroups(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT count(*) AS n FROM groups").one().n;
}

/**
 * `atHead`: start at the log's head whatever `start` says (it is still recorded): a partition
 * that joins a group after the group was made (worker/partitions/groups-config.ts).
 */
export function createGroup(sql: SqlStorage, record: StationRecord, name: string, config: GroupConfig, now: number, atHead = false): GroupRow {
  const start = config.start ?? "earliest";
  sql.exec(
    `INSERT INTO groups (name, next_offset, start, ack_timeout_ms, max_deliveries, delivered, acked, dead_lettered, discarded, skipped, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)`,
    name,
    atHead ? record.firstOffset : startOffset(start, record),
    JSON.stringify(start),
    config.ackTimeoutMs ?? null,
    config.maxDeliveries ?? null,
    now,
    now,
  );
  return loadGroup(sql, name)!;
}

/** Sets the overrides a PUT names; absent fields keep their value, null follows the station. */
export function updateOverrides(sql: SqlStorage, group: GroupRow, config: GroupConfig, now: number): GroupRow {
  const ackTimeoutMs = config.ackTimeoutMs === undefined ? group.ack_timeout_ms : config.ackTimeoutMs;
  const maxDeliveries = config.maxDeliveries === undefined ? group.max_deliveries : config.maxDeliveries;
  sql.exec("UPDATE groups SET ack_timeout_ms = ?, max_deliveries = ?, updated_at = ? WHERE name = ?", ackTimeoutMs, maxDeliveries, now, group.name);
  return loadGroup(sql, group.name)!;
}

/** Forgets a group: its cursor, its deliveries in flight, the messages kept for it, its consumers. */
export function deleteGroup(sql: SqlStorage, name: string): boolean {
  const gone = sql.exec("DELETE FROM groups WHERE name = ? RETURNING name", name).toArray().length > 0;
  sql.exec("DELETE FROM deliveries WHERE group_name = ?", name);
  sql.exec("DELETE FROM kept_messages WHERE group_name = ?", name);
  forgetConsumers(sql, name);
  return gone;
}

export function sameStart(a: StartPosition, b: StartPosition): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function startOf(group: GroupRow): StartPosition {
  return JSON.parse(group.start) as StartPosition;
}

/** The first offset a new group hands out. Offsets below the log's head are gone: start there. */
function startOffset(start: StartPosition, record: StationRecord): number {
  if (start === "earliest") return record.firstOffset;
  if (start === "latest") return record.nextOffset;
  // A future offset is kept: the group skips what comes before it.
  if ("offset" in start) return Math.max(start.offset, record.firstOffset);
  return Math.max(record.nextOffset - start.last, record.firstOffset);
}
