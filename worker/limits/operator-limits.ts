// Limits the operator sets for the whole worker through vars (wrangler.toml or the dashboard).
// A value that does not parse is ignored with a warning: the built-in default is safe.
import { DEFAULT_MAX_STORAGE_BYTES, MAX_STORAGE_BYTES_LIMIT } from "../../shared/limits";
import type { EnvVars } from "../env-vars";

let warned = false;

/** Ceiling (and default) of a station's storage quota, from STATION_MAX_STORAGE_BYTES. */
export function stationStorageCeilingBytes(env: Pick<EnvVars, "STATION_MAX_STORAGE_BYTES">): number {
  const raw = env.STATION_MAX_STORAGE_BYTES;
  if (raw === undefined || raw === "") return DEFAULT_MAX_STORAGE_BYTES;
  const value = /^\d{1,16}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (Number.isSafeInteger(value) && value >= 1 && value <= MAX_STORAGE_BYTES_LIMIT) return value;
  if (!warned) {
    warned = true;
    console.warn(`STATION_MAX_STORAGE_BYTES must be an integer in 1..${MAX_STORAGE_BYTES_LIMIT}; using ${DEFAULT_MAX_STORAGE_BYTES}`);
  }
  return DEFAULT_MAX_STORAGE_BYTES;
}
