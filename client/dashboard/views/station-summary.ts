// One-line descriptions of a station's config, for the list and the station's header.
import type { StationConfig } from "../../../shared/config";
import { formatBytes, formatCount, formatDuration } from "../format";

export function describeRetention(config: StationConfig): string {
  const { maxAgeMs, maxMessages, maxBytes, untilAcked, archive } = config.retention;
  const parts: string[] = [];
  if (maxAgeMs !== undefined) parts.push(formatDuration(maxAgeMs));
  if (maxMessages !== undefined) parts.push(`${formatCount(maxMessages)} msgs`);
  if (maxBytes !== undefined) parts.push(formatBytes(maxBytes));
  if (untilAcked) parts.push("until acked");
  if (parts.length === 0) return "forever";
  // Archived messages leave the object but not the station: replay still reads them.
  if (archive) parts.push("then R2");
  return parts.join(" · ");
}

export function describeSchema(config: StationConfig): string {
  if (!config.schema) return "none";
  return `${config.schema.name}@${config.schema.version}`;
}
