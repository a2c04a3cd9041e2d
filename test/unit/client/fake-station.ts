// An in-memory model of a Waystation station's produce route under protocol 3 (one partition): it rules on each
// (producer, seq) once — stored at an offset, held in its DLS, or refused with a code that
// consumes the seq — and answers every resend with the same ruling; seq_gap for a batch that
// skips ahead; seq_conflict for a resent seq carrying another action id. Every answer is
// stamped with the protocol header. Config (maxMessageBytes, a schema) may change between sends.
import { planSeqs } from "../../../shared/producers";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../../../shared/version";

export interface StoredMessage {
  offset: number;
  producer: string | null;
  seq: number | null;
  body: unknown;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
}

interface IncomingMessage {
  seq?: number;
  body: unknown;
  headers?: Record<string, string>;
  key?: string;
  id?: string;
}

type Result = { seq: number; partition: number; offset: number | null; duplicate: boolean; deadLettered?: boolean; refused?: { code: string; message: string } };

interface Ruled {
  id: string | null;
  result: Omit<Result, "duplicate">;
}

export interface StationConfig {
  maxMessageBytes: number;
  /** A body check standing in for a JSON Schema: a violation message, or null when the body fits. */
  schema?: (body: unknown) => string | null;
  /** File bodies failing the schema in the station's DLS instead of refusing them. */
  deadLetterSchemaFailures?: boolean;
}

export class FakeStation {
  readonly log: StoredMessage[] = [];
  /** Messages the station holds in its DLS (schema failures with `deadLetterSchemaFailures`). */
  readonly dls: StoredMessage[] = [];
  /** Every seq the station refused: producer:seq → code. */
  readonly refusals = new Map<string, string>();
  config: StationConfig = { maxMessageBytes: 1024 * 1024 };
  private producers = new Map<string, { last: number; ruled: Map<number, Ruled> }>();

  /** Forgets every producer and message, as if the station were deleted and made again. */
  reset(): void {
    this.log.length = 0;
    this.dls.length = 0;
    this.refusals.clear();
    this.producers.clear();
  }

  lastSeq(producer: string): number {
    return this.producers.get(producer)?.last ?? 0;
  }

  /** The produce route's answer to a request body: [status, json]. */
  produce(request: { producer?: string; messages: IncomingMessage[] }): [number, unknown] {
    if (request.producer === undefined) return [422, error("invalid_request", "producer needed")];
    const producer = request.producer;
    const state = this.producers.get(producer) ?? { last: 0, ruled: new Map<number, Ruled>() };
    const seqs = request.messages.map((m) => m.seq!);
    const plan = planSeqs(state.last, seqs);
    if (!plan.ok && plan.reason === "seq_gap") {
      return [409, error("seq_gap", "gap", { producer, expectedSeq: plan.expectedSeq, receivedSeq: plan.receivedSeq })];
    }
    if (!plan.ok) return [422, error("invalid_request", "seqs must increase by one", { issues: [{ path: `messages.${plan.index}.seq`, message: "order" }] })];
    // The ruling on a seq comes first, before any check that could answer differently now.
    for (let i = 0; i < plan.duplicates; i++) {
      const message = request.messages[i]!;
      if (state.ruled.get(message.seq!)!.id !== (message.id ?? null)) {
        return [409, error("seq_conflict", "another action under this seq", { producer, seq: message.seq, expectedSeq: state.last + 1 })];
      }
    }
    this.producers.set(producer, state);
    const results: Result[] = request.messages.map((message, index) => {
      if (index < plan.duplicates) return { ...state.ruled.get(message.seq!)!.result, duplicate: true };
      const result = this.rule(producer, message);
      state.ruled.set(message.seq!, { id: message.id ?? null, result });
      return { ...result, duplicate: false };
    });
    if (seqs.length > plan.duplicates) state.last = seqs[seqs.length - 1]!;
    return [200, { results, partitions: 1 }];
  }

  private rule(producer: string, message: IncomingMessage): Omit<Result, "duplicate"> {
    const seq = message.seq!;
    const bytes = new TextEncoder().encode(JSON.stringify(message.body)).length;
    if (bytes > this.config.maxMessageBytes) return this.refuse(producer, seq, "message_too_large", `${bytes} bytes > ${this.config.maxMessageBytes}`);
    const stored: StoredMessage = { offset: 0, producer, seq, body: message.body, headers: message.headers, key: message.key, id: message.id };
    const violation = this.config.schema?.(message.body) ?? null;
    if (violation !== null && this.config.deadLetterSchemaFailures) {
      this.dls.push(stored);
      return { seq, partition: 0, offset: null, deadLettered: true };
    }
    if (violation !== null) return this.refuse(producer, seq, "schema_violation", violation);
    stored.offset = this.log.length + 1;
    this.log.push(stored);
    return { seq, partition: 0, offset: stored.offset };
  }

  private refuse(producer: string, seq: number, code: string, message: string): Omit<Result, "duplicate"> {
    this.refusals.set(`${producer}:${seq}`, code);
    return { seq, partition: 0, offset: null, refused: { code, message } };
  }
}

export function error(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, ...details } };
}

/** A JSON answer of the station: stamped with the protocol header. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", [PROTOCOL_HEADER]: String(PROTOCOL_VERSION), ...headers } });
}

/** Something in front of the station answering instead (a proxy, a CDN, a captive portal): no protocol header. */
export function foreign(status: number, body = `<html><body><h1>${status}</h1></body></html>`, contentType = "text/html"): Response {
  return new Response(body, { status, headers: { "content-type": contentType } });
}
