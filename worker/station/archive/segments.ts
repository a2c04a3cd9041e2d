// Archive segments in R2: one NDJSON object per contiguous offset range of a station's log, each
// line a stored message row as the log holds it. Keys sort by offset, and the same range always
// gets the same key and the same bytes, so writing a segment again (after a crash) is harmless.
import type { MessageRow } from "../log/rows";

/** Most messages in one segment: a replay page (≤ MAX_READ_LIMIT) spans at most two. */
export const SEGMENT_MAX_MESSAGES = 5_000;
/** Most stored message bytes in one segment (always at least one message, whatever its size). */
export const SEGMENT_MAX_BYTES = 4 * 1024 * 1024;

const OFFSET_DIGITS = 16;
const padded = (offset: number) => String(offset).padStart(OFFSET_DIGITS, "0");

/**
 * Where a station's segments live. `createdAt` tells one incarnation of a name from the next:
 * a station deleted and created again never reads the segments of the old one.
 */
export function segmentPrefix(station: string, createdAt: number): string {
  return `stations/${station}/${createdAt}/`;
}

export function segmentKey(station: string, createdAt: number, first: number, last: number): string {
  return `${segmentPrefix(station, createdAt)}${padded(first)}-${padded(last)}.ndjson`;
}

export function encodeSegment(rows: readonly MessageRow[]): string {
  return rows.map((row) => JSON.stringify(row)).join("\n") + "\n";
}

export function decodeSegment(text: string): MessageRow[] {
  const rows: MessageRow[] = [];
  for (const line of text.split("\n")) if (line) rows.push(JSON.parse(line) as MessageRow);
  return rows;
}
