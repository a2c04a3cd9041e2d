// Hostile input on the edges every route shares: methods, URL and header bounds, content
// types, body size and depth, strict schemas — each refused with its own status and code.
import { beforeAll, describe, expect, it } from "vitest";
import { api, createStation, produce } from "./helpers";

// The first request of a file starts the runtime, which can take seconds on a busy machine.
beforeAll(() => api("GET", "/healthz", undefined, { token: null }), 30_000);

describe("methods and paths", () => {
  it("answers a known path under an unknown method with 405, the methods it takes in Allow", async () => {
    const station = await createStation();
    const res = await api("PATCH", `/v1/stations/${station}/messages`, {});
    expect(res.status).toBe(405);
    expect(res.body.error.code).toBe("method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST");
    const health = await api("POST", "/healthz", undefined, { token: null });
    expect(health.status).toBe(405);
  });

  it("answers an unknown path with 404 not_found, and asks for a token first under /v1", async () => {
    expect((await api("GET", "/nowhere", undefined, { token: null })).body.error.code).toBe("not_found");
    expect((await api("GET", "/v1/nowhere")).body.error.code).toBe("not_found");
    expect((await api("GET", "/v1/nowhere", undefined, { token: null })).status).toBe(401);
  });

  it("refuses names with control characters or the wrong shape before touching storage", async () => {
    for (const name of ["%00abc", "a%0Ab", "UPPER", "-lead", "a".repeat(129), "%E2%80%AEevil", "..", "a%2Fb"]) {
      const res = await api("PUT", `/v1/stations/${name}`, {});
      expect([400, 404], name).toContain(res.status);
      expect(res.body.error.code).toMatch(/^(invalid_name|not_found)$/);
    }
  });
});

describe("bounds", () => {
  it("refuses more headers than it reads with 431", async () => {
    const headers = Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`x-h${i}`, "v"]));
    const res = await api("GET", "/v1/stations", undefined, { headers });
    expect(res.status).toBe(431);
    expect(res.body.error.code).toBe("headers_too_large");
  });

  it("refuses oversized headers with 431", async () => {
    const res = await api("GET", "/v1/stations", undefined, { headers: { "x-big": "a".repeat(40_000) } });
    expect(res.status).toBe(431);
  });

  it("refuses a URL over 8 KiB with 414", async () => {
    const res = await api("GET", `/v1/stations?pad=${"a".repeat(9000)}`);
    expect(res.status).toBe(414);
    expect(res.body.error.code).toBe("uri_too_long");
  });

  it("refuses JSON nested deeper than it walks with invalid_json, not a 500", async () => {
    const station = await createStation();
    const deep = "[".repeat(20_000) + "]".repeat(20_000);
    const res = await api("POST", `/v1/stations/${station}/messages`, undefined, {
      raw: `{"messages":[{"body":${deep}}]}`,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
    const ok = "[".repeat(100) + "]".repeat(100);
    expect((await api("POST", `/v1/stations/${station}/messages`, undefined, { raw: `{"messages":[{"body":${ok}}]}`, headers: { "content-type": "application/json" } })).status).toBe(200);
  });

  it("refuses a body over its route's limit with 413 before parsing it", async () => {
    const res = await api("PUT", "/v1/stations/big-config", undefined, { raw: `{"x":"${"a".repeat(300_000)}"}`, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
  });

  it("refuses integers out of range and non-integers", async () => {
    for (const config of [{ maxMessageBytes: 0 }, { ackTimeoutMs: 1e300 }, { maxDeliveries: 2.5 }, { dedupWindowMs: -1 }, { retention: { maxMessages: "5" } }]) {
      expect((await api("PUT", "/v1/stations/bounded", config)).status, JSON.stringify(config)).toBe(422);
    }
    const station = await createStation();
    for (const query of ["from=-1", "from=1e3", "limit=100000", "from=99999999999999999999", "limit=abc"]) {
      expect((await api("GET", `/v1/stations/${station}/messages?${query}`)).status, query).toBe(422);
    }
  });
});

describe("bodies", () => {
  it("refuses a body that is not application/json with 415", async () => {
    const station = await createStation();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp"]) {
      const res = await api("POST", `/v1/stations/${station}/messages`, undefined, { raw: '{"messages":[{"body":1}]}', headers: { "content-type": type } });
      expect(res.status, type).toBe(415);
      expect(res.body.error.code).toBe("unsupported_media_type");
    }
    const res = await api("POST", `/v1/stations/${station}/messages`, undefined, { raw: '{"messages":[{"body":1}]}', headers: { "content-type": "application/json; charset=utf-8" } });
    expect(res.status).toBe(200);
  });

  it("refuses unknown fields everywhere, naming them", async () => {
    const station = await createStation();
    const res = await produce(station, { messages: [{ body: 1, colour: "red" }] });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('Unknown field "colour": this object takes no such field at messages.0.colour');
    const config = await api("PUT", `/v1/stations/${station}`, { retention: { maxAge: 5 } });
    expect(config.body.error.issues[0]).toEqual({ path: "retention.maxAge", message: 'Unknown field "maxAge": this object takes no such field' });
  });

  it("refuses an array where an object is expected", async () => {
    const res = await api("PUT", "/v1/stations/array-config", []);
    expect(res.status).toBe(422);
    expect(res.body.error.message).toContain("JSON object");
  });

  it("refuses invalid JSON and invalid UTF-8 with invalid_json", async () => {
    const station = await createStation();
    for (const raw of ['{"messages": [', "{'a': 1}", "NaN", '{"a":1}{"b":2}']) {
      const res = await api("POST", `/v1/stations/${station}/messages`, undefined, { raw, headers: { "content-type": "application/json" } });
      expect(res.status, raw).toBe(400);
      expect(res.body.error.code).toBe("invalid_json");
    }
  });
});
