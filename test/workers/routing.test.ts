// The routing shape every route shares: resources mounted under /v1/stations/:station, unknown
// methods answered 405 with the methods the route table takes there, and the order of the
// refusals — token (401), method (405), path (404), names (400), grant (403), then the body.
import { beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../worker/app";
import { api, createStation, uniqueStation } from "./helpers";
import { grantToken, signToken } from "./token-helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Route paths of the app (`/v1/stations/:station/groups/:group`), middleware left out, each with its methods. */
function routeTable(): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const route of buildApp().routes) {
    if (route.method === "ALL") continue;
    const methods = table.get(route.path) ?? new Set<string>();
    methods.add(route.method);
    table.set(route.path, methods);
  }
  return table;
}

/** Whether a route path takes a concrete path: a `:name` segment takes any one segment. */
function takes(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const have = path.split("/");
  return want.length === have.length && want.every((segment, i) => segment.startsWith(":") || segment === have[i]);
}

describe("mounts", () => {
  it("mounts every resource of a station at its own path, under one :station", () => {
    const paths = [...routeTable().keys()].filter((path) => path.startsWith("/v1/stations/"));
    const resources = new Set(paths.map((path) => path.split("/")[4] ?? ""));
    expect([...resources].sort()).toEqual(["", "dls", "doc", "groups", "messages", "schema", "webhooks"]);
    for (const path of paths) expect(path.match(/:station/g), path).toHaveLength(1);
  });
});

describe("methods no route takes", () => {
  it("answers 405 on every route path with exactly the methods the route table takes there, and HEAD with GET", async () => {
    const table = routeTable();
    for (const pattern of table.keys()) {
      const path = pattern.replace(/:[a-z]+/gi, "x1");
      const taken = new Set([...table].filter(([other]) => takes(other, path)).flatMap(([, methods]) => [...methods]));
      if (taken.has("GET")) taken.add("HEAD");
      const allow = [...taken].sort();
      for (const method of METHODS.filter((m) => !taken.has(m))) {
        const res = await api(method, path);
        expect([res.status, res.body.error.code, res.headers.get("allow")], `${method} ${path}`).toEqual([405, "method_not_allowed", allow.join(", ")]);
        expect(res.body.error.allowed, `${method} ${path}`).toEqual(allow);
      }
    }
  });

  it("counts a literal route and a parameter route that share a path together", async () => {
    // DELETE …/dls/:id takes `resend` as an id; POST …/dls/resend is the literal route.
    const res = await api("GET", `/v1/stations/${uniqueStation()}/dls/resend`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("DELETE, POST");
  });

  it("answers HEAD on a path with no GET route with 405 and Allow", async () => {
    const res = await api("HEAD", `/v1/stations/${uniqueStation()}/dls/resend`);
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("DELETE, POST");
  });

  it("answers 405 before looking at names or grants, and asks for a token before that", async () => {
    const token = await grantToken([uniqueStation("other")], ["produce"]);
    for (const auth of [{}, { token }]) {
      for (const path of ["/v1/stations/Bad_Name/messages", `/v1/stations/${uniqueStation()}/groups/Bad_Group`, `/v1/stations/${uniqueStation()}/webhooks/x1/replay`]) {
        const res = await api("PATCH", path, {}, auth);
        expect([res.status, res.body.error.code], path).toEqual([405, "method_not_allowed"]);
      }
    }
    expect((await api("PATCH", "/v1/stations/Bad_Name/messages", {}, { token: null })).status).toBe(401);
  });

  it("answers 404 not_found for a path below a station that no route takes, a trailing slash included", async () => {
    const station = await createStation();
    for (const path of [`/v1/stations/${station}/nothing`, `/v1/stations/${station}/messages/`, `/v1/stations/${station}/groups/g/fetch/more`]) {
      const res = await api("GET", path);
      expect([res.status, res.body.error.code], path).toEqual([404, "not_found"]);
    }
  });
});

describe("stationAccess", () => {
  it("checks the station's name, then a group's or an endpoint's, before the grant", async () => {
    const token = await grantToken([uniqueStation("other")], ["produce", "consume", "manage"]);
    const station = uniqueStation();
    for (const [method, path, name] of [
      ["GET", "/v1/stations/Bad_Name/messages", "station"],
      ["POST", "/v1/stations/Bad_Name/groups/Bad_Group/fetch", "station"],
      ["POST", `/v1/stations/${station}/groups/Bad_Group/fetch`, "group"],
      ["PUT", `/v1/stations/${station}/groups/Bad_Group`, "group"],
      ["PUT", `/v1/stations/${station}/webhooks/Bad_Hook`, "webhook"],
      ["POST", `/v1/stations/${station}/webhooks/Bad_Hook/replay`, "webhook"],
    ] as const) {
      const res = await api(method, path, method === "GET" ? undefined : {}, { token });
      expect([res.status, res.body.error.code], `${method} ${path}`).toEqual([400, "invalid_name"]);
      expect(Object.keys(res.body.error), `${method} ${path}`).toContain(name);
    }
  });

  it("refuses the grant before reading the body", async () => {
    const station = await createStation();
    const token = await grantToken([station], ["produce"]);
    for (const [method, path, action] of [
      ["POST", `/v1/stations/${station}/groups/g/ack`, "consume"],
      ["PUT", `/v1/stations/${station}/groups/g`, "manage"],
      ["POST", `/v1/stations/${station}/dls/resend`, "manage"],
      ["POST", `/v1/stations/${station}/doc`, "consume"],
      ["PUT", `/v1/stations/${station}/webhooks/w`, "manage"],
    ] as const) {
      const res = await api(method, path, undefined, { token, raw: "{not json", headers: { "content-type": "application/json" } });
      expect([res.status, res.body.error], `${method} ${path}`).toEqual([403, expect.objectContaining({ code: "forbidden", action, station })]);
    }
  });

  it("narrows to the named groups, speaking of the group when the station is reached", async () => {
    const station = await createStation();
    const token = await signToken({ grants: [{ stations: [station], groups: ["billing"], actions: ["consume"] }] as any });
    const other = await api("POST", `/v1/stations/${station}/groups/shipping/ack`, { offsets: [1] }, { token });
    expect([other.status, other.body.error]).toEqual([403, expect.objectContaining({ code: "forbidden", action: "consume", station, group: "shipping" })]);
    // A route that names no group: the grant reaches the station.
    expect((await api("GET", `/v1/stations/${station}/messages`, undefined, { token })).status).toBe(200);
    const manage = await api("GET", `/v1/stations/${station}/groups/billing`, undefined, { token });
    expect([manage.status, manage.body.error]).toEqual([403, expect.not.objectContaining({ group: expect.anything() })]);
    expect(manage.body.error).toMatchObject({ code: "forbidden", action: "manage", station });
  });

  it("hands the handler the station of the path", async () => {
    const station = await createStation();
    const token = await grantToken([station], ["produce", "consume"]);
    expect((await api("POST", `/v1/stations/${station}/messages`, { messages: [{ body: { n: 1 } }] }, { token })).status).toBe(200);
    const read = await api("GET", `/v1/stations/${station}/messages`, undefined, { token });
    expect(read.body.messages.map((m: { body: unknown }) => m.body)).toEqual([{ n: 1 }]);
    expect((await api("GET", `/v1/stations/${station}/schema`, undefined, { token })).body).toEqual({ station, schema: null });
  });
});
