// An in-memory model of a Waystation station's produce route under protocol 3, with `partitions`
// (1 by default): a batch names its partition, and each partition keeps its own producers and
// offsets, as each partition's Durable Object does. Per partition: it rules on each
// (producer, seq) once — stored at an offset, held in its DLS, or refused with a code that
// consumes the seq — and answers every resend with the same ruling; seq_gap for a batch that
// skips ahead; seq_conflict for a resent seq carrying another action id. Every answer is
// stamped with the protocol header. Config (maxMessageBytes, a schema) may change between sends.
import { planSeqs } from "../../../shared/producers";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../../../shared/version";

export interface StoredMessage {
  partition: number;
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

type Result = {
  seq: number;
  partition: number;
  offset: number | null;
  duplicate: boolean;
  deadLettered?: boolean;
  refused?: { code: string; message: string };
  unruled?: { code: string; message: string };
};

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
  /** How many partitions the station has; it may grow (or be reset smaller, as a station made again). */
  partitions = 1;
  /** Producers by `${partition}:${producer}`: each partition rules its own. */
  private producers = new Map<string, { last: number; ruled: Map<number, Ruled> }>();

  /** Forgets every producer and message, as if the station were deleted and made again. */
  reset(): void {
    this.log.length = 0;
    this.dls.length = 0;
    this.refusals.clear();
    this.producers.clear();
  }

  lastSeq(producer: string, partition = 0): number {
    return this.producers.get(`${partition}:${producer}`)?.last ?? 0;
  }

  /** The messages of one partition, in offset order. */
  logOf(partition: number): StoredMessage[] {
    return this.log.filter((m) => m.partition === partition);
  }

  /**
   * The produce route's answer to a request body: [status, json]. `unruledFrom`: the messages
   * from that index on are answered `unruled` and not ruled (their partition was not reached).
   */
  produce(request: { producer?: string; partition?: number; messages: IncomingMessage[] }, unruledFrom = Infinity): [number, unknown] {
    if (request.producer === undefined) return [422, error("invalid_request", "producer needed")];
    if (request.partition === undefined && this.partitions > 1) return [422, error("invalid_request", "this fake takes batches naming their partition")];
    const partition = request.partition ?? 0;
    if (partition >= this.partitions) {
      return [422, error("partition_out_of_range", `no partition ${partition}`, { partitions: this.partitions })];
    }
    const unruled = request.messages.slice(unruledFrom);
    request = { ...request, messages: request.messages.slice(0, unruledFrom) };
    const unruledResults = unruled.map((m) => ({ seq: m.seq!, partition, offset: null, duplicate: false, unruled: { code: "unavailable", message: "partition not reached" } }));
    if (request.messages.length === 0) return [200, { results: unruledResults, partitions: this.partitions }];
    const producer = request.producer!;
    const stateKey = `${partition}:${producer}`;
    const state = this.producers.get(stateKey) ?? { last: 0, ruled: new Map<number, Ruled>() };
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
    this.producers.set(stateKey, state);
    const results: Result[] = request.messages.map((message, index) => {
      if (index < plan.duplicates) return { ...state.ruled.get(message.seq!)!.result, duplicate: true };
      const result = this.rule(producer, partition, message);
      state.ruled.set(message.seq!, { id: message.id ?? null, result });
      return { ...result, duplicate: false };
    });
    if (seqs.length > plan.duplicates) state.last = seqs[seqs.length - 1]!;
    return [200, { results: [...results, ...unruledResults], partitions: this.partitions }];
  }

  private rule(producer: string, partition: number, message: IncomingMessage): Omit<Result, "duplicate"> {
    const seq = message.seq!;
    const bytes = new TextEncoder().encode(JSON.stringify(message.body)).length;
    if (bytes > this.config.maxMessageBytes) return this.refuse(producer, partition, seq, "message_too_large", `${bytes} bytes > ${this.config.maxMessageBytes}`);
    const stored: StoredMessage = { partition, offset: 0, producer, seq, body: message.body, headers: message.headers, key: message.key, id: message.id };
    const violation = this.config.schema?.(message.body) ?? null;
    if (violation !== null && this.config.deadLetterSchemaFailures) {
      this.dls.push(stored);
      return { seq, partition, offset: null, deadLettered: true };
    }
    if (violation !== null) return this.refuse(producer, partition, seq, "schema_violation", violation);
    stored.offset = this.logOf(partition).length + 1;
    this.log.push(stored);
    return { seq, partition, offset: stored.offset };
  }

  private refuse(producer: string, partition: number, seq: number, code: string, message: string): Omit<Result, "duplicate"> {
    this.refusals.set(`${producer}:${seq}`, code);
    return { seq, partition, offset: null, refused: { code, message } };
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
