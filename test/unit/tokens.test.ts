// The station-pattern rule and the token claims contract, as shared/tokens.ts writes them once
// for the worker, the SDK and any backend that mints its own tokens.
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { grantsAllow, grantsAllowEverywhere, matchesStationPattern, StationPatternSchema, TokenClaimsSchema } from "../../shared/tokens";

describe("matchesStationPattern", () => {
  it.each([
    ["orders", "orders", true],
    ["orders", "orders2", false],
    ["orders", "order", false],
    ["orders.*", "orders.eu", true],
    ["orders.*", "orders.eu.west", true],
    ["orders.*", "orders", false],
    ["orders.*", "orders.", false],
    ["orders.*", "ordersx", false],
    ["orders.*", "orders-eu", false],
    ["orders.*", "x.orders.eu", false],
    ["*", "anything-at-all", true],
  ])("%s against %s is %s", (pattern, station, expected) => {
    expect(matchesStationPattern(pattern, station)).toBe(expected);
  });

  it.each(["orders*", "*.eu", "or*ders", "Orders", "orders.**", ".*", "", "**", "orders.*.eu", " orders"])("refuses the pattern %j", (pattern) => {
    expect(v.safeParse(StationPatternSchema, pattern).success).toBe(false);
  });
});

describe("grants", () => {
  const grants = [
    { stations: ["orders", "carts.*"], actions: ["produce" as const] },
    { stations: ["orders"], actions: ["consume" as const] },
  ];

  it("allows an action on a station only when one grant names both", () => {
    expect(grantsAllow(grants, "produce", "orders")).toBe(true);
    expect(grantsAllow(grants, "consume", "orders")).toBe(true);
    expect(grantsAllow(grants, "produce", "carts.7")).toBe(true);
    expect(grantsAllow(grants, "consume", "carts.7")).toBe(false);
    expect(grantsAllow(grants, "manage", "orders")).toBe(false);
  });

  it("reaches every station only through a * pattern", () => {
    expect(grantsAllowEverywhere(grants, "produce")).toBe(false);
    expect(grantsAllowEverywhere([{ stations: ["*"], actions: ["manage"] }], "manage")).toBe(true);
    expect(grantsAllowEverywhere([{ stations: ["*"], actions: ["consume"] }], "manage")).toBe(false);
  });
});

describe("TokenClaimsSchema", () => {
  const claims = { sub: "user:42", exp: 2_000_000_000, iat: 1_900_000_000, grants: [{ stations: ["orders"], actions: ["produce"] }] };

  it("takes a minimal token and the registered JWT claims", () => {
    expect(v.safeParse(TokenClaimsSchema, claims).success).toBe(true);
    expect(v.safeParse(TokenClaimsSchema, { ...claims, jti: "id", iss: "my-backend", aud: ["waystation"], nbf: 1 }).success).toBe(true);
  });

  it.each([
    ["no exp", { ...claims, exp: undefined }],
    ["a fractional exp", { ...claims, exp: 1.5 }],
    ["no grants", { ...claims, grants: [] }],
    ["an unknown claim", { ...claims, admin: true }],
    ["a subject with a newline", { ...claims, sub: "a\nb" }],
    ["a subject of spaces", { ...claims, sub: "   " }],
    ["an unknown action", { ...claims, grants: [{ stations: ["orders"], actions: ["delete"] }] }],
    ["a zero rate", { ...claims, limits: { requestsPerSecond: 0 } }],
  ])("refuses %s", (_, input) => {
    expect(v.safeParse(TokenClaimsSchema, input).success).toBe(false);
  });
});
