// An in-memory stand-in for the produce route of a Waystation worker: the producer/seq rule of
// shared/producers.ts, whole-batch refusals, and hooks to inject faults before or after commit.
import { planSeqs } from "../../../shared/producers";

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

export class FakeStation {
  readonly log: StoredMessage[] = [];
  private readonly lastSeqs = new Map<string, number>();
  private readonly offsets = new Map<string, number>();

  /** Forgets every producer and message, as if the station were deleted and made again. */
  reset(): void {
    this.log.length = 0;
    this.lastSeqs.clear();
    this.offsets.clear();
  }

  lastSeq(producer: string): number {
    return this.lastSeqs.get(producer) ?? 0;
  }

  /** The produce route's answer to a request body: [status, json]. */
  produce(request: { producer?: string; messages: IncomingMessage[] }): [number, unknown] {
    const producer = request.producer ?? null;
    const seqs = request.messages.map((m) => m.seq!);
    if (producer === null) return [422, error("invalid_request", "producer needed")];
    const plan = planSeqs(this.lastSeq(producer), seqs);
    if (!plan.ok && plan.reason === "seq_gap") {
      return [409, error("seq_gap", "gap", { producer, expectedSeq: plan.expectedSeq, receivedSeq: plan.receivedSeq })];
    }
    if (!plan.ok) return [422, error("invalid_request", "seqs must increase by one", { issues: [{ path: `messages.${plan.index}.seq`, message: "order" }] })];
    const results = request.messages.map((message, index) => {
      const key = `${producer}:${message.seq}`;
      if (index < plan.duplicates) return { seq: message.seq!, offset: this.offsets.get(key) ?? null, duplicate: true };
      const offset = this.log.length + 1;
      this.log.push({ offset, producer, seq: message.seq!, body: message.body, headers: message.headers, key: message.key, id: message.id });
      this.offsets.set(key, offset);
      return { seq: message.seq!, offset, duplicate: false };
    });
    if (seqs.length > plan.duplicates) this.lastSeqs.set(producer, seqs[seqs.length - 1]!);
    return [200, { results }];
  }
}

export function error(code: string, message: string, details: Record<string, unknown> = {}) {
  return { error: { code, message, ...details } };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
