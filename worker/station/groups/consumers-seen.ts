// The consumers a group has seen: who fetched from it or subscribed to it, and when last, kept
// for the most recent MAX_CONSUMERS_KEPT per group so a churn of names cannot grow the table.
// Runs inside the caller's transaction; the group's stats read it back with the leases held.
import { type GroupConsumer, MAX_CONSUMERS_IN_INFO } from "../../../shared/groups";

/** Consumers remembered per group; the least recently seen beyond it are forgotten. */
export const MAX_CONSUMERS_KEPT = 100;

/**
 * Notes that `consumer` used `group` at `now`: one statement, plus a prune only when the
 * consumer is new to the group (first seen now), so a busy fetch loop stays one write.
 */
export function noteConsumer(sql: SqlStorage, group: string, consumer: string, now: number): void {
  const { first_seen_at } = sql
    .exec<{ first_seen_at: number }>(
      `INSERT INTO group_consumers (group_name, consumer, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_name, consumer) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)
       RETURNING first_seen_at`,
      group,
      consumer,
      now,
      now,
    )
    .one();
  if (first_seen_at !== now) return;
  sql.exec(
    `DELETE FROM group_consumers WHERE group_name = ? AND consumer IN (
       SELECT consumer FROM group_consumers WHERE group_name = ? ORDER BY last_seen_at DESC, consumer LIMIT -1 OFFSET ?)`,
    group,
    group,
    MAX_CONSUMERS_KEPT,
  );
}

/** Forgets the consumers of a deleted group. */
export function forgetConsumers(sql: SqlStorage, group: string): void {
  sql.exec("DELETE FROM group_consumers WHERE group_name = ?", group);
}

interface SeenRow {
  group_name: string;
  consumer: string;
  last_seen_at: number;
  pending: number;
  [column: string]: SqlStorageValue;
}

/**
 * The most recently seen consumers of every group (or of one), newest first, each with the
 * leases it holds now: one statement whatever the number of groups.
 */
export function listConsumersSeen(sql: SqlStorage, now: number, group?: string): Map<string, GroupConsumer[]> {
  const only = group === undefined ? "" : "WHERE group_name = ?";
  const onlyAnd = group === undefined ? "" : "AND group_name = ?";
  const params: SqlStorageValue[] = group === undefined ? [now, MAX_CONSUMERS_IN_INFO] : [group, now, group, MAX_CONSUMERS_IN_INFO];
  const rows = sql
    .exec<SeenRow>(
      `SELECT c.group_name, c.consumer, c.last_seen_at, coalesce(l.n, 0) AS pending
       FROM (SELECT group_name, consumer, last_seen_at,
               row_number() OVER (PARTITION BY group_name ORDER BY last_seen_at DESC, consumer) AS rank
             FROM group_consumers ${only}) AS c
       LEFT JOIN (SELECT group_name, consumer, count(*) AS n FROM deliveries
                  WHERE lease_until > ? AND consumer IS NOT NULL ${onlyAnd} GROUP BY group_name, consumer) AS l
         ON l.group_name = c.group_name AND l.consumer = c.consumer
       WHERE c.rank <= ?
       ORDER BY c.group_name, c.rank`,
      ...params,
    )
    .toArray();
  const byGroup = new Map<string, GroupConsumer[]>();
  for (const row of rows) {
    const list = byGroup.get(row.group_name) ?? [];
    list.push({ name: row.consumer, lastSeenAt: row.last_seen_at, pending: row.pending });
    byGroup.set(row.group_name, list);
  }
  return byGroup;
}
