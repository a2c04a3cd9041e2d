// An in-memory doc station behind msw for the SDK's doc tests: produce with the producer/seq
// rule (the SDK tests' FakeStation), and `POST …/doc` answering the merged state of the log's
// binary bodies, or what a state vector lacks (stations named log-… answer 409 not_a_doc).
// No WebSocket: docs run in poll mode here.
import "fake-indexeddb/auto";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import * as Y from "yjs";
import { decodeBinaryBody, encodeBinaryBody } from "../../shared/binary";
import { FakeStation, json } from "./client/fake-station";

export const DOC_URL = "http://docs.test";
export const DOC_TOKEN = "docs-unit-token";

export function startDocServer() {
  const stations = new Map<string, FakeStation>();
  const produced: { station: string; messages: number }[] = [];
  const station = (name: string) => {
    let s = stations.get(name);
    if (!s) stations.set(name, (s = new FakeStation()));
    return s;
  };
  /** The station's document: every binary body of its log, merged. */
  const stateOf = (name: string) => {
    const updates = station(name).log.map((m) => decodeBinaryBody(m.body)).filter((u): u is Uint8Array => u !== null);
    return Y.mergeUpdates(updates);
  };
  const server = setupServer(
    http.post(`${DOC_URL}/v1/stations/:station/messages`, async ({ request, params }) => {
      const body = (await request.json()) as { producer: string; messages: { seq: number; body: unknown }[] };
      produced.push({ station: String(params.station), messages: body.messages.length });
      const [status, answer] = station(String(params.station)).produce(body);
      return json(status, answer);
    }),
    http.post(`${DOC_URL}/v1/stations/:station/doc`, async ({ request, params }) => {
      if (String(params.station).startsWith("log-")) return json(409, { error: { code: "not_a_doc", message: "not a doc station" } });
      const body = (await request.json()) as { stateVector?: unknown };
      const merged = stateOf(String(params.station));
      const vector = body.stateVector === undefined ? null : decodeBinaryBody(body.stateVector);
      return json(200, {
        update: encodeBinaryBody(vector ? Y.diffUpdate(merged, vector) : merged),
        stateVector: encodeBinaryBody(Y.encodeStateVectorFromUpdate(merged)),
        offset: station(String(params.station)).log.length,
        snapshotOffset: 0,
        tailUpdates: station(String(params.station)).log.length,
      });
    }),
    http.get(`${DOC_URL}/v1/stations/:station/schema`, () => json(200, { schema: null })),
  );
  server.listen({ onUnhandledRequest: "error" });
  return { server, station, stateOf, produced, close: () => server.close() };
}

/** A fetch that fails like a cut network while `offline()` says so. */
export function switchableFetch(offline: () => boolean): typeof fetch {
  return (input, init) => (offline() ? Promise.reject(new TypeError("fetch failed (offline)")) : fetch(input, init));
}

export function textOfUpdate(update: Uint8Array, name = "t"): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc.getText(name).toString();
}
