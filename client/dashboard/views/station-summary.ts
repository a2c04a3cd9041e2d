// One-line descriptions of a station's config, for the list and the station's header.
import type { StationConfig } from "../../../shared/config";
import { formatBytes, formatCount, formatDuration } from "../format";

export function describeRetention(config: StationConfig): string {
  const { maxAgeMs, maxMessages, maxBytes, untilAcked } = config.retention;
  const parts: string[] = [];
  if (maxAgeMs !== undefined) parts.push(formatDuration(maxAgeMs));
  if (maxMessages !== undefined) parts.push(`${formatCount(maxMessages)} msgs`);
  if (maxBytes !== undefined) parts.push(formatBytes(maxBytes));
  if (untilAcked) parts.push("until acked");
  return parts.length > 0 ? parts.join(" · ") : "forever";
}

export function describeSchema(config: StationConfig): string {
  if (!config.schema) return "none";
  return `${config.schema.name}@${config.schema.version}`;
}
