// Long-poll fetches waiting for messages, kept in memory only: a waiter lives as long as its
// request does, and is woken by whatever makes messages available (produce, nack, expiry,
// resend) — never by a polling loop. FIFO per group, so the first to wait is served first.
// The same list holds watchers: waits that lease nothing (a partitioned station's Worker waits
// on every partition at once, then leases from the one that has something: worker/partitions/).

export interface Waiter {
  readonly group: string;
  readonly consumer: string;
  readonly max: number;
  /** Hands the waiter its leased messages (wire JSON each) and ends its wait. */
  settle(messages: string[]): void;
}

/** A wait that leases nothing: told once the group has something to hand out (or not, when it ends). */
export interface Watcher {
  readonly group: string;
  /** The caller's name for this wait, so it can end it early (it found messages elsewhere). */
  readonly id: string;
  settle(ready: boolean): void;
}

export class Waiters<W extends { readonly group: string } = Waiter> {
  private readonly byGroup = new Map<string, W[]>();

  add(waiter: W): void {
    const list = this.byGroup.get(waiter.group);
    if (list) list.push(waiter);
    else this.byGroup.set(waiter.group, [waiter]);
  }

  /** Forgets a waiter (its time ran out, or it was served); false if it was gone already. */
  remove(waiter: W): boolean {
    const list = this.byGroup.get(waiter.group);
    const index = list?.indexOf(waiter) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.byGroup.delete(waiter.group);
    return true;
  }

  /** Groups with someone waiting. */
  groups(): string[] {
    return [...this.byGroup.keys()];
  }

  /** The waiters of a group, oldest first (a copy: serving one removes it). */
  of(group: string): W[] {
    return [...(this.byGroup.get(group) ?? [])];
  }

  get size(): number {
    let n = 0;
    for (const list of this.byGroup.values()) n += list.length;
    return n;
  }

  /** Removes and returns every waiter (the station is going away). */
  drain(): W[] {
    const all = [...this.byGroup.values()].flat();
    this.byGroup.clear();
    return all;
  }
}
