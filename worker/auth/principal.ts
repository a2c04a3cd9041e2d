// Who is calling and what they may do. The admin token may do everything; a scoped token
// (a JWT, worker/auth/tokens.ts) reaches only the stations and actions its grants name.
import type { Action } from "../../shared/auth";
import { DEFAULT_TOKEN_BYTES_PER_SECOND, DEFAULT_TOKEN_REQUESTS_PER_SECOND } from "../../shared/limits";
import { type Rates, resolveRates } from "../../shared/rate-limits";
import { type TokenClaims, grantsAllow, grantsAllowEverywhere, matchesStationPattern } from "../../shared/tokens";

export interface Principal {
  /** Who the token was issued to: `admin` for the admin token. */
  subject: string;
  isAdmin: boolean;
  can(action: Action, station: string): boolean;
  /** Whether `action` reaches every station, present and future: the admin, or a grant on `*`.
   *  Routes that name no station but act across them (schemas) ask this. */
  canEverywhere(action: Action): boolean;
  /** Whether the caller may know the station exists: any action on it. */
  canSee(station: string): boolean;
  /** This caller's per-subject rates, or null for the admin (limited per station only). */
  rates: Rates | null;
}

export const ADMIN: Principal = {
  subject: "admin",
  isAdmin: true,
  can: () => true,
  canEverywhere: () => true,
  canSee: () => true,
  rates: null,
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
    canEverywhere: (action) => grantsAllowEverywhere(grants, action),
    canSee: (station) => grants.some((grant) => grant.stations.some((pattern) => matchesStationPattern(pattern, station))),
    rates: resolveRates(claims.limits, DEFAULT_TOKEN_RATES),
  };
}
