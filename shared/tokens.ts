// Scoped tokens on the wire: the claims of a Waystation JWT (HS256, signed with the worker's
// TOKEN_SIGNING_KEY), the station-pattern rule that decides what a grant reaches, and the
// `POST /v1/tokens` request. An app's own backend can mint the same tokens with these rules.
import * as v from "valibot";
import { ACTIONS, type Action } from "./auth";
import { MAX_GRANT_PATTERNS, MAX_TOKEN_GRANTS, MAX_TOKEN_TTL_SECONDS, MIN_TOKEN_TTL_SECONDS } from "./limits";
import { intInRange, nonNegativeInt, positiveInt } from "./numbers";
import { RateLimitSchema } from "./rate-limits";

/**
 * A station pattern: `*` (every station), an exact station name (`orders`), or a name
 * followed by `.*` (`orders.*`: every station whose name starts with `orders.`, at any depth,
 * but not `orders` itself). Nothing else is a wildcard: `orders*` and `*.eu` are refused.
 */
export const STATION_PATTERN_PATTERN = /^(?:\*|[a-z0-9][a-z0-9._-]{0,127}|[a-z0-9][a-z0-9._-]{0,125}\.\*)$/;

/** Who a token was issued to: visible ASCII (a user id, `user:42`, an email), as it ends up in logs. */
export const SUBJECT_PATTERN = /^[\x21-\x7e]{1,256}$/;

/** The token's algorithm: HMAC-SHA256 with the worker's TOKEN_SIGNING_KEY. No other is accepted. */
export const TOKEN_ALGORITHM = "HS256";

/**
 * Whether `pattern` reaches `station`.
 *
 * @example matchesStationPattern("orders.*", "orders.eu") // → true
 * @example matchesStationPattern("orders.*", "orders")    // → false
 */
export function matchesStationPattern(pattern: string, station: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) {
    const prefix = pattern.slice(0, -1); // keeps the dot: "orders."
    return station.length > prefix.length && station.startsWith(prefix);
  }
  return pattern === station;
}

export const StationPatternSchema = v.pipe(
  v.string(),
  v.regex(STATION_PATTERN_PATTERN, "A station pattern is *, a station name, or a name followed by .*"),
);

/** Schema and group patterns follow the station rule (their names do too, shared/names.ts). */
const NamePatternsSchema = (what: string) =>
  v.pipe(
    v.array(StationPatternSchema),
    v.minLength(1, `A grant's ${what} names at least one pattern (leave the field out instead)`),
    v.maxLength(MAX_GRANT_PATTERNS, `A grant names at most ${MAX_GRANT_PATTERNS} ${what} patterns`),
  );

export const GrantSchema = v.strictObject({
  stations: v.pipe(
    v.array(StationPatternSchema),
    v.minLength(1, "A grant names at least one station pattern"),
    v.maxLength(MAX_GRANT_PATTERNS, `A grant names at most ${MAX_GRANT_PATTERNS} station patterns`),
  ),
  /**
   * The schemas this grant's `manage` reaches (read, add versions, bind to a station). Left
   * out: the schemas whose names match `stations` (so a tenant's `a.*` reaches schemas `a.*`).
   */
  schemas: v.optional(NamePatternsSchema("schemas")),
  /**
   * The consumer groups this grant reaches on its stations (fetch, ack, nack, subscribe, seek,
   * group config). Left out: every group. One app's `groups: ["billing"]` cannot ack another's.
   */
  groups: v.optional(NamePatternsSchema("groups")),
  actions: v.pipe(
    v.array(v.picklist(ACTIONS as Action[], `An action is one of ${ACTIONS.join(", ")}`)),
    v.minLength(1, "A grant names at least one action"),
    v.maxLength(ACTIONS.length * 2, "Too many actions"),
  ),
});
export type Grant = v.InferOutput<typeof GrantSchema>;

const GrantsSchema = v.pipe(
  v.array(GrantSchema),
  v.minLength(1, "A token needs at least one grant"),
  v.maxLength(MAX_TOKEN_GRANTS, `A token holds at most ${MAX_TOKEN_GRANTS} grants`),
);

export const SubjectSchema = v.pipe(v.string(), v.regex(SUBJECT_PATTERN, "A subject is 1-256 visible ASCII characters"));

const BoundedClaim = v.pipe(v.string(), v.maxLength(256), v.regex(/^[\x20-\x7e]*$/, "Claims are visible ASCII"));

/** The verified payload of a scoped token. Registered JWT claims are allowed; other claims are refused. */
export const TokenClaimsSchema = v.strictObject({
  sub: SubjectSchema,
  /** Expiry, in seconds since the Unix epoch (JWT NumericDate). Required. */
  exp: positiveInt,
  iat: v.optional(nonNegativeInt),
  nbf: v.optional(nonNegativeInt),
  jti: v.optional(BoundedClaim),
  iss: v.optional(BoundedClaim),
  aud: v.optional(v.union([BoundedClaim, v.pipe(v.array(BoundedClaim), v.maxLength(16))])),
  grants: GrantsSchema,
  /** This subject's own rates; the worker's defaults apply where left out. */
  limits: v.optional(RateLimitSchema),
});
export type TokenClaims = v.InferOutput<typeof TokenClaimsSchema>;

/** Whether any grant reaches `station` with `action`. */
export function grantsAllow(grants: readonly Grant[], action: Action, station: string): boolean {
  return grants.some((grant) => grant.actions.includes(action) && grant.stations.some((pattern) => matchesStationPattern(pattern, station)));
}

/** Whether any grant reaches group `group` of `station` with `action` (a grant without `groups`: every group). */
export function grantsAllowGroup(grants: readonly Grant[], action: Action, station: string, group: string): boolean {
  return grants.some(
    (grant) =>
      grant.actions.includes(action) &&
      grant.stations.some((pattern) => matchesStationPattern(pattern, station)) &&
      (grant.groups === undefined || grant.groups.some((pattern) => matchesStationPattern(pattern, group))),
  );
}

/**
 * Whether a `manage` grant reaches schema `schema`: through its `schemas` patterns, or, when it
 * names none, through its station patterns (tokens minted before `schemas` existed keep their
 * tenant's prefix, and a grant on `*` keeps every schema).
 */
export function grantsReachSchema(grants: readonly Grant[], schema: string): boolean {
  return grants.some(
    (grant) =>
      grant.actions.includes("manage") && (grant.schemas ?? grant.stations).some((pattern) => matchesStationPattern(pattern, schema)),
  );
}

/** Whether a grant gives `action` on every station, present and future (a `*` pattern). */
export function grantsAllowEverywhere(grants: readonly Grant[], action: Action): boolean {
  return grants.some((grant) => grant.actions.includes(action) && grant.stations.includes("*"));
}

/** `POST /v1/tokens` (admin only). */
export const MintTokenRequestSchema = v.strictObject({
  sub: SubjectSchema,
  /** Lifetime in seconds; one hour when left out. */
  ttlSeconds: v.optional(intInRange(MIN_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS)),
  grants: GrantsSchema,
  limits: v.optional(RateLimitSchema),
});
export type MintTokenRequest = v.InferOutput<typeof MintTokenRequestSchema>;

export interface MintTokenResponse {
  /** The JWT, to send as `Authorization: Bearer <token>`. */
  token: string;
  claims: TokenClaims;
  /** Milliseconds since the Unix epoch. */
  expiresAt: number;
}
