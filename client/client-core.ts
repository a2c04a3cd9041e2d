// What the modules behind the client (station handles, schema checks, docs) use of it: a narrow
// interface, so they need not import the WaystationClient class that imports them.
import type { EncodedAction } from "./encode";
import type { Appended } from "./outbox/append";
import type { Connection } from "./outbox/connection";
import type { Transport } from "./transport";
import type { ClientEvents, DeadLetter, PendingAction } from "./types";

export interface ClientCore {
  readonly url: string;
  readonly conn: Connection;
  readonly transport: Transport;
  readonly closed: boolean;
  on<K extends keyof ClientEvents>(event: K, listener: (event: ClientEvents[K]) => void): () => void;
  /** Commits actions to the outbox; resolves with their partitions and seqs. */
  append(station: string, actions: EncodedAction[]): Promise<Appended[]>;
  pending(station?: string): Promise<PendingAction[]>;
  deadLetters(station?: string): Promise<DeadLetter[]>;
  /** Throws `closed` once the client was closed. */
  assertOpen(): void;
}
