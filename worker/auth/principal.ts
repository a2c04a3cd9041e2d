// Who is calling and what they may do. The admin token may do everything; scoped tokens
// (minted from it) reach only the stations and actions they name.
import type { Action } from "../../shared/auth";

export interface Principal {
  /** Who the token was issued to: `admin` for the admin token. */
  subject: string;
  isAdmin: boolean;
  can(action: Action, station: string): boolean;
}

export const ADMIN: Principal = {
  subject: "admin",
  isAdmin: true,
  can: () => true,
};
