// Name rules for everything that becomes a key: stations, groups, consumers, producers.
// Written once here; the worker validates path segments and bodies with them, the SDK before sending.

/** A station (and a schema, group or webhook endpoint) name: lowercase, starts alphanumeric, ≤ 128. */
export const STATION_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,127}$/;
/** A producer id: a ULID or UUID fits. */
export const PRODUCER_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Group, webhook endpoint and schema names follow the station rule. */
export const GROUP_NAME_PATTERN = STATION_NAME_PATTERN;
/** A consumer (a member of a group) is named by the caller, like a producer. */
export const CONSUMER_NAME_PATTERN = PRODUCER_ID_PATTERN;

export function isStationName(name: string): boolean {
  return STATION_NAME_PATTERN.test(name);
}
