// Whether a group has something to hand out now, without leasing it: a redelivery due (nacked,
// lease ran out, a delayed message whose time came) or a visible message past its cursor. Read
// only; the caller ends leases that ran out first (the service's `prepare`).
import type { StationRecord } from "../log/record";
import type { GroupRow } from "./group-state";

export function hasMessagesToHandOut(sql: SqlStorage, record: StationRecord, group: GroupRow, now: number): boolean {
  const due = sql
    .exec("SELECT 1 FROM deliveries WHERE group_name = ? AND consumer IS NULL AND available_at <= ? LIMIT 1", group.name, now)
    .toArray();
  if (due.length > 0) return true;
  const from = Math.max(group.next_offset, record.firstOffset);
  if (from >= record.nextOffset) return false;
  const visible = sql
    .exec("SELECT 1 FROM messages WHERE msg_offset >= ? AND (visible_at IS NULL OR visible_at <= ?) LIMIT 1", from, now)
    .toArray();
  return visible.length > 0;
}
