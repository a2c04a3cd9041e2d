// An in-memory doc station behind msw for the SDK's doc tests: produce rules per contract v2 (stored, or
// refused in a 200 with the seq consumed: message_too_large, invalid_doc_update; a resend gets the same
// ruling), and `POST …/doc` answers the merged state or a state-vector diff. No WebSocket (poll mode).
import "fake-indexeddb/auto";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import * as Y from "yjs";
import { decodeBinaryBody, encodeBinaryBody } from "../../shared/binary";
import { planSeqs } from "../../shared/producers";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../../shared/version";
import { error } from "./client/fake-station";

export const DOC_URL = "http://docs.test";
export const DOC_TOKEN = "docs-unit-token";

interface Refusal {
  code: string;
  message: string;
  maxMessageBytes?: number;
}

type Ruling = { offset: number } | { refused: Refusal };

/** One doc station: its log of updates and its rulings per (producer, seq). */
export class FakeDocStation {
  readonly log: { offset: number; producer: string; seq: number; body: unknown; bodyBytes: number }[] = [];
  readonly refused: { producer: string; seq: number; refusal: Refusal }[] = [];
  maxMessageBytes = 1024 * 1024;
  /** Whether a `message_too_large` refusal names the limit (a server that does not say must work too). */
  statesLimit = true;
  /** Offsets are dense and never reused, even when `forget` drops a message. */
  lastOffset = 0;
  private readonly lastSeqs = new Map<string, number>();
  private readonly rulings = new Map<string, Ruling>();

  produce(request: { producer?: string; messages: { seq: number; body: unknown }[] }): [number, unknown] {
    const producer = request.producer;
    if (producer === undefined) return [422, error("invalid_request", "producer needed")];
    const plan = planSeqs(this.lastSeqs.get(producer) ?? 0, request.messages.map((m) => m.seq));
    if (!plan.ok && plan.reason === "seq_gap") {
      return [409, error("seq_gap", "gap", { producer, expectedSeq: plan.expectedSeq, receivedSeq: plan.receivedSeq })];
    }
    if (!plan.ok) return [422, error("invalid_request", "seqs must increase by one")];
    const results = request.messages.map((message, index) => {
      const key = `${producer}:${message.seq}`;
      const ruling = index < plan.duplicates ? this.rulings.get(key)! : this.rule(producer, message);
      this.rulings.set(key, ruling);
      const duplicate = index < plan.duplicates;
      return "refused" in ruling
        ? { seq: message.seq, partition: 0, offset: null, duplicate, refused: ruling.refused }
        : { seq: message.seq, partition: 0, offset: ruling.offset, duplicate };
    });
    if (request.messages.length > plan.duplicates) this.lastSeqs.set(producer, request.messages.at(-1)!.seq);
    return [200, { results, partitions: 1 }];
  }

  private merged: { length: number; state: Uint8Array; vector: Uint8Array } = { length: 0, state: Y.mergeUpdates([]), vector: new Uint8Array([0]) };

  /** Loses a stored message (a fault: the station acknowledged it and no longer has it). */
  forget(offset: number): void {
    const index = this.log.findIndex((m) => m.offset === offset);
    if (index >= 0) this.log.splice(index, 1);
    this.merged = { length: -1, state: Y.mergeUpdates([]), vector: new Uint8Array([0]) };
  }

  /** The merged document of the stored updates (merged again only when the log changed). */
  state(): Uint8Array {
    return this.current().state;
  }

  stateVector(): Uint8Array {
    return this.current().vector;
  }

  private current() {
    if (this.merged.length !== this.log.length) {
      const added = this.log.slice(Math.max(0, this.merged.length)).map((m) => decodeBinaryBody(m.body)!);
      const state = Y.mergeUpdates([this.merged.state, ...added]);
      this.merged = { length: this.log.length, state, vector: Y.encodeStateVectorFromUpdate(state) };
    }
    return this.merged;
  }

  private rule(producer: string, message: { seq: number; body: unknown }): Ruling {
    const bodyBytes = new TextEncoder().encode(JSON.stringify(message.body)).byteLength;
    const refuse = (refusal: Refusal): Ruling => {
      this.refused.push({ producer, seq: message.seq, refusal });
      return { refused: refusal };
    };
    if (bodyBytes > this.maxMessageBytes) {
      const message = `${bodyBytes} bytes; at most ${this.maxMessageBytes}`;
      return refuse(this.statesLimit ? { code: "message_too_large", message, maxMessageBytes: this.maxMessageBytes } : { code: "message_too_large", message });
    }
    const update = decodeBinaryBody(message.body);
    if (update === null || !isUpdate(update)) return refuse({ code: "invalid_doc_update", message: "not a yjs update" });
    const offset = ++this.lastOffset;
    this.log.push({ offset, producer, seq: message.seq, body: message.body, bodyBytes });
    return { offset };
  }
}

function isUpdate(update: Uint8Array): boolean {
  try {
    Y.decodeUpdate(update);
    return true;
  } catch {
    return false;
  }
}

function answer(status: number, body: unknown): Response {
  return HttpResponse.json(body as Record<string, unknown>, { status, headers: { [PROTOCOL_HEADER]: String(PROTOCOL_VERSION) } });
}

export function startDocServer() {
  const stations = new Map<string, FakeDocStation>();
  const produced: { station: string; messages: number }[] = [];
  const station = (name: string) => {
    let s = stations.get(name);
    if (!s) stations.set(name, (s = new FakeDocStation()));
    return s;
  };
  const stateOf = (name: string) => station(name).state();
  const server = setupServer(
    http.post(`${DOC_URL}/v1/stations/:station/messages`, async ({ request, params }) => {
      const body = (await request.json()) as { producer: string; messages: { seq: number; body: unknown }[] };
      produced.push({ station: String(params.station), messages: body.messages.length });
      const [status, result] = station(String(params.station)).produce(body);
      return answer(status, result);
    }),
    http.post(`${DOC_URL}/v1/stations/:station/doc`, async ({ request, params }) => {
      if (String(params.station).startsWith("log-")) return answer(409, { error: { code: "not_a_doc", message: "not a doc station" } });
      const body = (await request.json()) as { stateVector?: unknown };
      const merged = stateOf(String(params.station));
      const vector = body.stateVector === undefined ? null : decodeBinaryBody(body.stateVector);
      return answer(200, {
        update: encodeBinaryBody(vector ? Y.diffUpdate(merged, vector) : merged),
        stateVector: encodeBinaryBody(station(String(params.station)).stateVector()),
        offset: station(String(params.station)).lastOffset,
        snapshotOffset: 0,
        tailUpdates: station(String(params.station)).log.length,
      });
    }),
    http.get(`${DOC_URL}/v1/stations/:station/schema`, () => answer(200, { schema: null })),
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
