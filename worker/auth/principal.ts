// Who is calling and what they may do. The admin token may do everything; a scoped token
// (a JWT, worker/auth/tokens.ts) reaches only the stations and actions its grants name.
import type { Action } from "../../shared/auth";
import { DEFAULT_TOKEN_BYTES_PER_SECOND, DEFAULT_TOKEN_REQUESTS_PER_SECOND } from "../../shared/limits";
import { type Rates, resolveRates } from "../../shared/rate-limits";
import { type TokenClaims, grantsAllow, grantsAllowEverywhere, grantsAllowGroup, grantsReachSchema, matchesStationPattern } from "../../shared/tokens";

/** Which secret vouches for the caller: rotating it revokes the caller (and its open sockets). */
export type KeyKind = "admin" | "scoped";

export interface Principal {
  /** Who the token was issued to: `admin` for the admin token. */
  subject: string;
  isAdmin: boolean;
  can(action: Action, station: string): boolean;
  /** `action` on a group of a station: like `can`, narrowed by a grant's `groups`. */
  canGroup(action: Action, station: string, group: string): boolean;
  /** Whether the caller may read, add versions of and bind schema `name` (shared/tokens.ts). */
  canSchema(name: string): boolean;
  /** Whether some schema may be within reach (a manage grant): the schema list answers 403 otherwise. */
  mayReachSchemas: boolean;
  /** Whether `action` reaches every station, present and future: the admin, or a grant on `*`.
   *  Routes that name no station but act across them (schemas) ask this. */
  canEverywhere(action: Action): boolean;
  /** Whether the caller may know the station exists: any action on it. */
  canSee(station: string): boolean;
  /** This caller's per-subject rates, or null for the admin (limited per station only). */
  rates: Rates | null;
  /** When the token expires (ms since the epoch), or null (the admin token does not). */
  expiresAtMs: number | null;
  keyKind: KeyKind;
}

export const ADMIN: Principal = {
  subject: "admin",
  isAdmin: true,
  can: () => true,
  canGroup: () => true,
  canSchema: () => true,
  mayReachSchemas: true,
  canEverywhere: () => true,
  canSee: () => true,
  rates: null,
  expiresAtMs: null,
  keyKind: "admin",
};

const DEFAULT_TOKEN_RATES: Rates = {
  requestsPerSecond: DEFAULT_TOKEN_REQUESTS_PER_SECOND,
  bytesPerSecond: DEFAULT_TOKEN_BYTES_PER_SECOND,
};

/** The principal of a verified scoped token. */
export function scopedPrincipal(claims: TokenClaims): Principal {
  const grants = claims.grants;
  return {
    subject: claims.sub,
    isAdmin: false,
    can: (action, station) => grantsAllow(grants, action, station),
    canGroup: (action, station, group) => grantsAllowGroup(grants, action, station, group),
    canSchema: (name) => grantsReachSchema(grants, name),
    mayReachSchemas: grants.some((grant) => grant.actions.includes("manage")),
    canEverywhere: (action) => grantsAllowEverywhere(grants, action),
    canSee: (station) => grants.some((grant) => grant.stations.some((pattern) => matchesStationPattern(pattern, station))),
    rates: resolveRates(claims.limits, DEFAULT_TOKEN_RATES),
    expiresAtMs: claims.exp * 1000,
    keyKind: "scoped",
  };
}
