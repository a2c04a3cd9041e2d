// Awareness of a document (cursors, presence), in the manner of y-protocols: one JSON state per
// Y.Doc clientID with a clock; the newest clock wins, `null` means gone, a state not renewed
// for 30 s is dropped. It travels over the doc socket only and is never stored.
import { AWARENESS_RENEW_MS, type AwarenessState } from "../../shared/doc-socket";

/** A state not renewed for this long is dropped (y-protocols uses the same). */
const OUTDATED_MS = 2 * AWARENESS_RENEW_MS;

export interface AwarenessChange {
  added: number[];
  updated: number[];
  removed: number[];
}

type Listener = (change: AwarenessChange, origin: "local" | "remote") => void;

/**
 * Who else is in the document and where. Set your own state; read everyone's.
 *
 * @example
 * doc.awareness.setLocalStateField("user", { name: "Ada", color: "#f80" });
 * doc.awareness.on("change", () => render([...doc.awareness.getStates().values()]));
 */
export class DocAwareness {
  private readonly states = new Map<number, unknown>();
  private readonly meta = new Map<number, { clock: number; seenAt: number }>();
  private readonly listeners = new Set<Listener>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly clientID: number,
    /** Sends our state to the others (when connected); set by the doc's link. */
    private send: (state: AwarenessState) => void = () => {},
  ) {
    this.meta.set(clientID, { clock: 0, seenAt: Date.now() });
    this.timer = setInterval(() => this.tick(), AWARENESS_RENEW_MS / 3);
  }

  getLocalState(): unknown {
    return this.states.get(this.clientID) ?? null;
  }

  /** Replaces our state (`null`: we are gone) and tells the others. */
  setLocalState(state: unknown): void {
    const meta = this.meta.get(this.clientID)!;
    const existed = this.states.has(this.clientID);
    meta.clock += 1;
    meta.seenAt = Date.now();
    if (state === null) this.states.delete(this.clientID);
    else this.states.set(this.clientID, state);
    this.send(this.localFrame());
    const change: AwarenessChange = { added: [], updated: [], removed: [] };
    if (state === null) change.removed.push(this.clientID);
    else (existed ? change.updated : change.added).push(this.clientID);
    this.emit(change, "local");
  }

  setLocalStateField(field: string, value: unknown): void {
    const current = this.getLocalState();
    const base = typeof current === "object" && current !== null ? current : {};
    this.setLocalState({ ...base, [field]: value });
  }

  /** Every known state by clientID, ours included. */
  getStates(): Map<number, unknown> {
    return new Map(this.states);
  }

  on(event: "change", listener: Listener): () => void {
    void event;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Our state as a frame entry, to send on (re)connect and to renew. */
  localFrame(): AwarenessState {
    return { clientID: this.clientID, clock: this.meta.get(this.clientID)!.clock, state: this.getLocalState() };
  }

  setSender(send: (state: AwarenessState) => void): void {
    this.send = send;
  }

  /** States from the others: newer clocks win; our own clientID is never overwritten. */
  applyRemote(states: readonly AwarenessState[]): void {
    const change: AwarenessChange = { added: [], updated: [], removed: [] };
    const now = Date.now();
    for (const { clientID, clock, state } of states) {
      if (clientID === this.clientID) continue;
      const known = this.meta.get(clientID);
      if (known && known.clock > clock) continue;
      // An equal clock with a null state is a removal the server made for a closed socket.
      if (known && known.clock === clock && state !== null) {
        known.seenAt = now;
        continue;
      }
      this.meta.set(clientID, { clock, seenAt: now });
      const had = this.states.has(clientID);
      if (state === null) {
        if (had) change.removed.push(clientID);
        this.states.delete(clientID);
      } else {
        this.states.set(clientID, state);
        (had ? change.updated : change.added).push(clientID);
      }
    }
    if (change.added.length + change.updated.length + change.removed.length > 0) this.emit(change, "remote");
  }

  /** Everyone but us is gone (the socket closed): their states may be stale by now. */
  forgetOthers(): void {
    const removed = [...this.states.keys()].filter((id) => id !== this.clientID);
    for (const id of removed) this.states.delete(id);
    if (removed.length > 0) this.emit({ added: [], updated: [], removed }, "remote");
  }

  destroy(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.states.has(this.clientID)) this.setLocalState(null);
    this.listeners.clear();
  }

  private tick(): void {
    const now = Date.now();
    const own = this.meta.get(this.clientID)!;
    if (this.states.has(this.clientID) && now - own.seenAt >= AWARENESS_RENEW_MS) {
      own.seenAt = now;
      this.send(this.localFrame());
    }
    const removed: number[] = [];
    for (const [id, meta] of this.meta) {
      if (id !== this.clientID && this.states.has(id) && now - meta.seenAt > OUTDATED_MS) {
        this.states.delete(id);
        removed.push(id);
      }
    }
    if (removed.length > 0) this.emit({ added: [], updated: [], removed }, "remote");
  }

  private emit(change: AwarenessChange, origin: "local" | "remote"): void {
    for (const listener of this.listeners) listener(change, origin);
  }
}
