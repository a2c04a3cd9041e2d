// A sequential producer for the crash test: numbers its messages 1, 2, 3…, keeps the one batch
// whose answer it has not seen (`pending`), and remembers the offset of every acknowledged seq.
// It models what a real client must do across a runtime crash; it never decides what is stored.

/** The part of a running worker a producer needs; the URL changes on every restart. */
export interface Target {
  url: string;
  token: string;
}

export interface SentMessage {
  seq: number;
  body: { producer: string; seq: number; pad: string };
}

export interface ProduceResult {
  seq: number;
  offset: number | null;
  duplicate: boolean;
}

export type Answer =
  | { kind: "ok"; results: ProduceResult[] }
  | { kind: "seq_gap"; expectedSeq: number }
  | { kind: "lost"; reason: string };

/** ~200 B bodies, like the benchmark's. */
const PAD = "x".repeat(150);

export class CrashProducer {
  /** seq → offset of every message the station acknowledged to us. */
  readonly acked = new Map<number, number>();
  /** The last batch sent whose answer never arrived (the crash ate it), or null. */
  pending: SentMessage[] | null = null;
  /** The last batch that was acknowledged, kept to prove a resend gets the same offsets. */
  lastAckedBatch: { messages: SentMessage[]; offsets: number[] } | null = null;
  private nextSeq = 1;

  constructor(
    readonly id: string,
    readonly station: string,
  ) {}

  /** Highest seq the station acknowledged to us (0 before the first). */
  get lastAckedSeq(): number {
    return this.nextSeq - 1 - (this.pending?.length ?? 0);
  }

  /** Makes the next batch of `size` messages; it stays pending until acknowledged. */
  nextBatch(size: number): SentMessage[] {
    if (this.pending) throw new Error(`${this.id}: a batch is still pending`);
    const messages: SentMessage[] = [];
    for (let i = 0; i < size; i++) {
      const seq = this.nextSeq++;
      messages.push({ seq, body: { producer: this.id, seq, pad: PAD } });
    }
    this.pending = messages;
    return messages;
  }

  /** Sends `messages` (the pending batch, a resend or a probe) and classifies the answer. */
  async send(target: Target, messages: SentMessage[]): Promise<Answer> {
    let res: Response;
    try {
      res = await fetch(`${target.url}/v1/stations/${this.station}/messages`, {
        method: "POST",
        headers: { authorization: `Bearer ${target.token}`, "content-type": "application/json" },
        body: JSON.stringify({ producer: this.id, messages }),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      return { kind: "lost", reason: String(error) };
    }
    let body: any;
    try {
      body = await res.json();
    } catch (error) {
      return { kind: "lost", reason: `status ${res.status}, unreadable body: ${String(error)}` };
    }
    if (res.status === 200) return { kind: "ok", results: body.results };
    if (res.status === 409 && body?.error?.code === "seq_gap") return { kind: "seq_gap", expectedSeq: body.error.expectedSeq };
    return { kind: "lost", reason: `status ${res.status}: ${JSON.stringify(body)}` };
  }

  /** Records the station's answer to the pending batch: it is acknowledged now. */
  acknowledge(results: ProduceResult[]): void {
    const batch = this.pending!;
    const offsets = results.map((r, i) => {
      if (r.seq !== batch[i]!.seq || r.offset === null) throw new Error(`${this.id}: bad result ${JSON.stringify(r)} for seq ${batch[i]!.seq}`);
      return r.offset;
    });
    batch.forEach((m, i) => this.acked.set(m.seq, offsets[i]!));
    this.lastAckedBatch = { messages: batch, offsets };
    this.pending = null;
  }

  /** A one-message batch far ahead of anything sent: always a `seq_gap`, which says where to resume. */
  probe(): SentMessage[] {
    const seq = this.nextSeq + 1000;
    return [{ seq, body: { producer: this.id, seq, pad: PAD } }];
  }
}
