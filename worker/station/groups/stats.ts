// Group stats as the station info and `GET …/groups/{group}` show them: ack floor, pending
// (leased now), lag (never handed out, delayed ones included), redeliveries waiting, dead
// letters, consumers seen.
// A few aggregate queries over all groups; no per-group round trips.
import type { GroupConsumer, GroupInfo } from "../../../shared/groups";
import { countDeadLettersByGroup } from "../dead-letters";
import type { StationRecord } from "../log/record";
import { listConsumersSeen } from "./consumers-seen";
import { type GroupRow, loadGroup, loadGroups, settingsOf, startOf } from "./group-state";

interface InFlight {
  group_name: string;
  first_open: number;
  pending: number;
  in_flight: number;
  /** Delayed messages passed over, not visible yet. */
  delayed: number;
  [column: string]: SqlStorageValue;
}

/** Stats of every group; a lease past its end counts as a redelivery waiting, not as pending. */
export function describeGroups(sql: SqlStorage, record: StationRecord, now: number): GroupInfo[] {
  const groups = loadGroups(sql);
  if (groups.length === 0) return [];
  const inFlight = new Map(
    sql
      .exec<InFlight>(
        `SELECT group_name, min(msg_offset) AS first_open, coalesce(sum(lease_until > ?), 0) AS pending, count(*) AS in_flight,
           coalesce(sum(consumer IS NULL AND deliveries = 0 AND available_at > ?), 0) AS delayed
         FROM deliveries GROUP BY group_name`,
        now,
        now,
      )
      .toArray()
      .map((row) => [row.group_name, row]),
  );
  const deadLetters = countDeadLettersByGroup(sql);
  const consumers = listConsumersSeen(sql, now);
  return groups.map((group) =>
    toInfo(group, record, inFlight.get(group.name), deadLetters.get(group.name) ?? 0, consumers.get(group.name) ?? []),
  );
}

export function describeGroup(sql: SqlStorage, record: StationRecord, name: string, now: number): GroupInfo | null {
  const group = loadGroup(sql, name);
  if (!group) return null;
  const inFlight =
    sql
      .exec<InFlight>(
        `SELECT group_name, min(msg_offset) AS first_open, coalesce(sum(lease_until > ?), 0) AS pending, count(*) AS in_flight,
           coalesce(sum(consumer IS NULL AND deliveries = 0 AND available_at > ?), 0) AS delayed
         FROM deliveries WHERE group_name = ? GROUP BY group_name`,
        now,
        now,
        name,
      )
      .toArray()[0] ?? undefined;
  const deadLetters = sql.exec<{ n: number }>("SELECT count(*) AS n FROM dead_letters WHERE group_name = ?", name).one().n;
  return toInfo(group, record, inFlight, deadLetters, listConsumersSeen(sql, now, name).get(name) ?? []);
}

function toInfo(group: GroupRow, record: StationRecord, inFlight: InFlight | undefined, deadLetters: number, consumers: GroupConsumer[]): GroupInfo {
  const settings = settingsOf(group, record.config);
  const cursor = Math.max(group.next_offset, record.firstOffset);
  const firstUnacked = inFlight ? Math.min(inFlight.first_open, cursor) : cursor;
  return {
    name: group.name,
    ackFloor: firstUnacked - 1,
    pending: inFlight?.pending ?? 0,
    // Never handed out: past the cursor, and the delayed messages the cursor passed over.
    lag: Math.max(0, record.nextOffset - cursor) + (inFlight?.delayed ?? 0),
    deadLetters,
    nextOffset: group.next_offset,
    redeliveries: inFlight ? inFlight.in_flight - inFlight.pending - inFlight.delayed : 0,
    delivered: group.delivered,
    delayed: inFlight?.delayed ?? 0,
    epoch: group.epoch,
    acked: group.acked,
    discarded: group.discarded,
    skipped: group.skipped,
    ackTimeoutMs: settings.ackTimeoutMs,
    maxDeliveries: settings.maxDeliveries,
    overrides: { ackTimeoutMs: group.ack_timeout_ms, maxDeliveries: group.max_deliveries },
    start: startOf(group),
    createdAt: group.created_at,
    consumers,
  };
}
