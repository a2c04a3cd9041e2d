// One syncing tab per origin: the tab holding a Web Lock syncs; the others wait in the lock's
// queue and hear status and events over a BroadcastChannel. A closed or crashed tab releases
// its lock (the browser does it), so the next waiting tab takes over.
import type { PlainError } from "./errors";
import type { AckedEvent, Status } from "./types";

/** What tabs say to each other. Plain data only (structured clone). */
export type ChannelMessage =
  | { t: "status"; status: Status }
  | { t: "acked"; events: AckedEvent[] }
  | { t: "rejected"; events: { station: string; partition: number; seq: number; deadLetterId: number; error: PlainError }[] }
  | { t: "enqueued"; stream: string; station: string; partition: number; count: number; recount: boolean }
  | { t: "recount" }
  | { t: "flush"; id: string }
  | { t: "flushed"; id: string; status: Status }
  | { t: "hello" };

/** The Web Lock one syncer at a time holds, per outbox database and server (tabs and the service worker, client/sw/). */
export function syncLockName(dbName: string, url: string): string {
  return `waystation ${dbName} ${url}`;
}

export interface LeaderHooks {
  /** This tab now holds the lock: start syncing. */
  lead(): void;
  message(message: ChannelMessage): void;
}

export class Leader {
  isLeader = false;
  private channel: BroadcastChannel | null = null;
  private readonly abort = new AbortController();
  private release?: () => void;

  constructor(
    private readonly name: string,
    private readonly locks: LockManager | null,
    private readonly hooks: LeaderHooks,
  ) {}

  start(): void {
    if (typeof BroadcastChannel === "function") {
      this.channel = new BroadcastChannel(this.name);
      this.channel.onmessage = (event: MessageEvent<ChannelMessage>) => this.hooks.message(event.data);
    }
    if (!this.locks) {
      // No Web Locks: every tab syncs. Still exactly once (the station dedups by seq), only chattier.
      this.become();
      return;
    }
    this.locks
      .request(this.name, { signal: this.abort.signal }, () => new Promise<void>((resolve) => {
        this.release = resolve;
        this.become();
      }))
      .catch(() => {
        // aborted by close() while waiting
      });
  }

  post(message: ChannelMessage): void {
    try {
      this.channel?.postMessage(message);
    } catch {
      // closed
    }
  }

  close(): void {
    this.abort.abort();
    this.release?.();
    this.isLeader = false;
    this.channel?.close();
    this.channel = null;
  }

  private become(): void {
    this.isLeader = true;
    this.hooks.lead();
  }
}
