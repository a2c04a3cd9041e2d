// Consumer groups of one station, as the Station object serves them: fetch (with long-poll),
// ack, nack, lease extension, dead-lettering by the consumer, seek, group config, the dead-letter station, WebSocket subscribers, and the alarm task
// that ends leases. Owns the in-memory parts (waiters) and the order of steps; the SQL lives
// in the modules beside it. Every write goes through the host's transaction.
import type { DeadLetterQuery, DeadLettersResponse, DropResponse, ResendRequest, ResendResponse } from "../../../shared/dead-letters";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { AckResponse, DeadLetterResponse, ExtendResponse, GroupConfig, GroupInfo, NackResponse, SeekResponse, SeekTarget } from "../../../shared/groups";
import { MAX_FETCH_BYTES, MAX_GROUPS_PER_STATION, MAX_READ_BYTES, MAX_RESEND_ALL, MAX_RESEND_BYTES, MAX_WAITING_FETCHES } from "../../../shared/limits";
import { GROUP_NAME_PATTERN } from "../../../shared/names";
import {
  contentOfRow,
  dropDeadLetter,
  listDeadLetters,
  type DeadLetterRow,
  type ResendTarget,
  resendDeadLetters,
} from "../dead-letters";
import type { ScheduledTask } from "../scheduler";
import type { StationRecord } from "../log/record";
import { countThroughput } from "../log/throughput";
import { noteConsumer } from "./consumers-seen";
import { deadLetterLeased, extendLeases } from "./consumer-verdicts";
import { countGroups, createGroup, deleteGroup, loadGroup, sameStart, startOf, updateOverrides } from "./group-state";
import { type LeasedBatch, leaseMessages } from "./leases";
import { acknowledgedPrefixWaiting, skipTrimmed, trimAcked } from "./log-sync";
import { messagesJson } from "./message-json";
import { seekGroup } from "./seek";
import { ackOffsets, expireLeases, hasExpiredLeases, nackOffsets, nextDeliveryDueAt, requeueMessage } from "./settle";
import { describeGroup, describeGroups } from "./stats";
import type { StationContext, StationFeature } from "../feature";
import type { SocketGuard } from "../socket-guard";
import { SubscriberHub } from "./subscriber-hub";
import { type Waiter, Waiters, type Watcher } from "./waiters";
import { hasMessagesToHandOut } from "./availability";

/** What the groups need beyond the station's context: the socket guard, and the webhooks' floor. */
export interface GroupLinks {
  /** Checks subscriber sockets against their token and rates (worker/station/socket-guard.ts). */
  readonly socketGuard: SocketGuard;
  /** The lowest offset readers outside the groups table (webhook endpoints) still need, or null. */
  otherFirstUnacked?(): number | null;
}

/** A fetch answer, as wire JSON text (`{"messages":[…]}`) ready to send. */
export interface FetchAnswer {
  json: string;
  count: number;
}

/** One partition's share of a partitioned fetch: wire JSON of each leased message, in offset order. */
export interface LeasedShare {
  messages: string[];
}

/** A part of the station that takes back its own dead letters (e.g. webhooks). */
export interface ResendRoute {
  matches(letter: DeadLetterRow): boolean;
  target: ResendTarget;
}

export class GroupService implements StationFeature {
  private readonly waiters = new Waiters();
  /** Waits that lease nothing (`watch`); they count against MAX_WAITING_FETCHES with the waiters. */
  private readonly watchers = new Waiters<Watcher>();
  private readonly resendRoutes: ResendRoute[] = [];
  /** The log head groups were last brought up to (retention may have moved it since). Set
   *  inside a transaction: `transact` forgets it when that transaction rolls back. */
  private syncedHead = 0;

  private readonly hub: SubscriberHub;

  constructor(
    private readonly host: StationContext,
    private readonly links: GroupLinks,
  ) {
    this.hub = new SubscriberHub(host.ctx, {
      lease: (group, consumer, max, maxBytes, now) => this.lease(group, consumer, max, maxBytes, now),
      ensureGroup: (group, consumer) => {
        const now = Date.now();
        return this.transact((record) => {
          this.prepare(record, now);
          // A subscribe never creates a group: that takes the manage right (PUT …/groups/{group}).
          if (!loadGroup(this.sql, group)) return groupNotFound(record, group);
          noteConsumer(this.sql, group, consumer, now);
          return ok(null);
        });
      },
      ack: (group, offsets, epoch) => this.ack(group, offsets, epoch),
      partition: () => host.record()?.partition ?? 0,
      nack: (group, offsets, delayMs, epoch) => this.nack(group, offsets, delayMs, epoch),
      extend: (group, consumer, offsets, epoch) => this.extend(group, consumer, offsets, epoch),
      deadLetter: (group, offsets, reason, epoch) => this.deadLetter(group, offsets, reason, epoch),
      wakeBy: (at) => this.host.wakeBy(at),
    }, links.socketGuard);
  }

  private get sql(): SqlStorage {
    return this.host.sql;
  }

  /**
   * The host's transaction. When it rolls back (a refusal or a throw) every write of `prepare`
   * in it is undone too, so the in-memory `syncedHead` is forgotten: the next transaction
   * brings the groups up to the head again (idempotent) instead of trusting undone work.
   */
  private transact<T>(work: (record: StationRecord) => Result<T>): Result<T> {
    let result: Result<T>;
    try {
      result = this.host.transact(work);
    } catch (error) {
      this.syncedHead = 0;
      throw error;
    }
    if (!result.ok) this.syncedHead = 0;
    return result;
  }

  private otherFirstUnacked(): number | null {
    return this.links.otherFirstUnacked?.() ?? null;
  }

  /** Lets another part of the station take back dead letters it filed. */
  addResendRoute(route: ResendRoute): void {
    this.resendRoutes.push(route);
  }

  readonly tasks: readonly ScheduledTask[] = [this.leaseTask()];

  /** The alarm task: ends leases that ran out, deletes acked messages, wakes waiters. */
  private leaseTask(): ScheduledTask {
    return {
      name: "groups",
      dueAt: (now) => {
        const record = this.host.record();
        if (!record) return null;
        if (acknowledgedPrefixWaiting(this.sql, record, this.otherFirstUnacked())) return now;
        return nextDeliveryDueAt(this.sql, now);
      },
      run: async (now) => {
        this.transact((record) => {
          this.prepare(record, now);
          trimAcked(this.sql, record, this.otherFirstUnacked());
          return ok(null);
        });
        await this.onAvailable();
      },
    };
  }

  /**
   * Acks `ackFirst` (the previous batch, saving a round trip and a storage sync), then leases up
   * to `max` messages; with nothing to hand out, waits up to `waitMs` for some.
   */
  async fetch(group: string, consumer: string, max: number, waitMs: number, ackFirst: readonly number[] = [], ackEpoch: number | null = null): Promise<Result<FetchAnswer>> {
    const leased = this.lease(group, consumer, max, MAX_FETCH_BYTES, Date.now(), true, [...new Set(ackFirst)], ackEpoch);
    if (!leased.ok) return leased;
    if (leased.value.missing) return groupNotFound(this.host.record(), group);
    const acked = ackFirst.length > 0 ? leased.value.acked : undefined;
    if (leased.value.messages.length > 0) {
      await this.host.wakeBy(leased.value.leaseUntil);
      return ok(answer(leased.value.messages, acked));
    }
    // Waiters live in memory: past the bound a long-poll answers at once, and the caller polls again.
    if (waitMs === 0 || this.waitingCount() >= MAX_WAITING_FETCHES) return ok(answer([], acked));
    return this.wait(group, consumer, max, waitMs, acked);
  }

  /**
   * A partitioned station's share of one fetch: leases up to `max` messages and about
   * `maxBytes` (the Worker splits one fetch's budget over the partitions, and applies its acks
   * before). Never waits: the Worker waits with `watch` on every partition instead, so no lease
   * is ever taken for a caller that stopped listening.
   */
  async leaseShare(group: string, consumer: string, max: number, maxBytes: number): Promise<Result<LeasedShare>> {
    const leased = this.lease(group, consumer, max, maxBytes, Date.now(), true);
    if (!leased.ok) return leased;
    if (leased.value.missing) return groupNotFound(this.host.record(), group);
    if (leased.value.messages.length > 0) await this.host.wakeBy(leased.value.leaseUntil);
    return ok({ messages: leased.value.messages });
  }

  /**
   * Waits up to `waitMs` until the group has something to hand out, leasing nothing: `ready`
   * says whether it has. A wait of the same `id` replaces the one before (answered not ready).
   */
  async watch(group: string, id: string, waitMs: number): Promise<Result<{ ready: boolean }>> {
    const now = Date.now();
    const checked = this.transact((record) => {
      this.prepare(record, now);
      const row = loadGroup(this.sql, group);
      if (!row) return groupNotFound(record, group);
      return ok(hasMessagesToHandOut(this.sql, record, row, now));
    });
    if (!checked.ok) return checked;
    this.unwatch(group, id);
    if (checked.value || waitMs === 0 || this.waitingCount() >= MAX_WAITING_FETCHES) return ok({ ready: checked.value });
    return new Promise((resolve) => {
      const watcher: Watcher = {
        group,
        id,
        settle: (ready) => {
          clearTimeout(timer);
          resolve(ok({ ready }));
        },
      };
      const timer = setTimeout(() => {
        if (this.watchers.remove(watcher)) resolve(ok({ ready: false }));
      }, waitMs);
      this.watchers.add(watcher);
    });
  }

  /** Ends the wait `id` early (answered not ready); nothing if it already ended. */
  unwatch(group: string, id: string): void {
    for (const watcher of this.watchers.of(group)) {
      if (watcher.id === id && this.watchers.remove(watcher)) watcher.settle(false);
    }
  }

  private waitingCount(): number {
    return this.waiters.size + this.watchers.size;
  }

  /** `epoch`: the one the messages carried, if the consumer sent it (a lease a seek dropped then counts for nothing). */
  ack(group: string, offsets: readonly number[], epoch: number | null = null): Result<AckResponse> {
    const unique = [...new Set(offsets)];
    // No lease expiry first: an ack that arrives late still counts, rather than racing the DLS.
    return this.transact((record) => {
      if (!loadGroup(this.sql, group)) return groupNotFound(record, group);
      const acked = ackOffsets(this.sql, group, unique, epoch);
      if (acked > 0) trimAcked(this.sql, record, this.otherFirstUnacked());
      return ok({ acked });
    });
  }

  async nack(group: string, offsets: readonly number[], delayMs: number, epoch: number | null = null): Promise<Result<NackResponse>> {
    const now = Date.now();
    const unique = [...new Set(offsets)];
    const result = this.transact((record) => {
      const row = loadGroup(this.sql, group);
      if (!row) return groupNotFound(record, group);
      const outcome = nackOffsets(this.sql, record, row, unique, delayMs, now, epoch);
      if (outcome.deadLettered + outcome.discarded > 0) trimAcked(this.sql, record, this.otherFirstUnacked());
      return ok({ nacked: outcome.requeued + outcome.deadLettered + outcome.discarded });
    });
    if (result.ok && result.value.nacked > 0) {
      if (delayMs === 0) await this.onAvailable();
      else await this.host.wakeBy(now + delayMs);
    }
    return result;
  }

  /**
   * Keeps `consumer`'s live leases on `offsets` for another ackTimeoutMs. No lease expiry
   * first, as with acks: a lease is extended only while it has not run out by the clock.
   * The alarm may still wake at the old end; it then finds nothing due and sleeps again.
   * `epoch`: as for ack — a lease a seek dropped is not extended even once its message went out again.
   */
  extend(group: string, consumer: string, offsets: readonly number[], epoch: number | null = null): Result<ExtendResponse> {
    const now = Date.now();
    const unique = [...new Set(offsets)];
    return this.transact((record) => {
      const row = loadGroup(this.sql, group);
      if (!row) return groupNotFound(record, group);
      const outcome = extendLeases(this.sql, record, row, consumer, unique, now, epoch);
      if (outcome.extended > 0) noteConsumer(this.sql, group, consumer, now);
      return ok(outcome);
    });
  }

  /**
   * The consumer gives up on leased messages: to the DLS now (reason `rejected`), whatever their
   * deliveries. `epoch`: as for ack — a stale one never files a message since leased to another.
   */
  deadLetter(group: string, offsets: readonly number[], reason: string, epoch: number | null = null): Result<DeadLetterResponse> {
    const now = Date.now();
    const unique = [...new Set(offsets)];
    return this.transact((record) => {
      const row = loadGroup(this.sql, group);
      if (!row) return groupNotFound(record, group);
      const outcome = deadLetterLeased(this.sql, row, unique, reason, now, epoch);
      if (outcome.deadLettered > 0) trimAcked(this.sql, record, this.otherFirstUnacked());
      return ok(outcome);
    });
  }

  /**
   * Moves the group (worker/station/groups/seek.ts) and answers with its new state. Leases in
   * flight are dropped; with `untilAcked`, what the new ack floor frees is deleted; waiting
   * fetches and subscribers are served from the new position at once.
   */
  async seek(group: string, target: SeekTarget): Promise<Result<SeekResponse>> {
    const now = Date.now();
    const result = this.transact((record) => {
      this.prepare(record, now);
      const row = loadGroup(this.sql, group);
      if (!row) return groupNotFound(record, group);
      const moved = seekGroup(this.sql, record, row, target, now);
      if (!moved.ok) return moved;
      trimAcked(this.sql, record, this.otherFirstUnacked());
      return ok({ ...describeGroup(this.sql, record, group, now)!, dropped: moved.value.dropped });
    });
    if (result.ok) await this.onAvailable();
    return result;
  }

  /** Creates a group or changes its overrides; `start` is fixed once the group exists. */
  configure(group: string, config: GroupConfig): Result<{ created: boolean; info: GroupInfo }> {
    const now = Date.now();
    return this.transact((record) => {
      this.prepare(record, now);
      const existing = loadGroup(this.sql, group);
      if (existing && config.start !== undefined && !sameStart(config.start, startOf(existing))) {
        return fail(ErrorCode.GroupStartFixed, `Group ${group} exists and started at ${JSON.stringify(startOf(existing))}; delete it to start elsewhere`, {
          start: startOf(existing),
        });
      }
      if (!existing && countGroups(this.sql) >= MAX_GROUPS_PER_STATION) {
        return fail(ErrorCode.TooManyGroups, `Station ${record.name} has ${MAX_GROUPS_PER_STATION} consumer groups, the most it may have: delete one first`, {
          max: MAX_GROUPS_PER_STATION,
        });
      }
      if (existing) updateOverrides(this.sql, existing, config, now);
      else createGroup(this.sql, record, group, config, now);
      return ok({ created: !existing, info: describeGroup(this.sql, record, group, now)! });
    });
  }

  /**
   * A partition joins a group the station already has (created before the partition was, or
   * with a start that names another partition): the group is made here from the log's head,
   * recording `config.start` as given so the partitions agree on it. An existing group only
   * takes the overrides.
   */
  adopt(group: string, config: GroupConfig): Result<{ created: boolean; info: GroupInfo }> {
    const now = Date.now();
    return this.transact((record) => {
      this.prepare(record, now);
      const existing = loadGroup(this.sql, group);
      if (!existing && countGroups(this.sql) >= MAX_GROUPS_PER_STATION) {
        return fail(ErrorCode.TooManyGroups, `Station ${record.name} has ${MAX_GROUPS_PER_STATION} consumer groups, the most it may have: delete one first`, {
          max: MAX_GROUPS_PER_STATION,
        });
      }
      if (existing) updateOverrides(this.sql, existing, config, now);
      else createGroup(this.sql, record, group, config, now, true);
      return ok({ created: !existing, info: describeGroup(this.sql, record, group, now)! });
    });
  }

  describe(group: string): Result<GroupInfo> {
    const now = Date.now();
    return this.transact((record) => {
      this.prepare(record, now);
      const info = describeGroup(this.sql, record, group, now);
      return info ? ok(info) : groupNotFound(record, group);
    });
  }

  /**
   * Every group's stats, for the station info. Leases that ran out are settled first (moved
   * back in line, or to the DLS), so the figures do not wait for the alarm to come round.
   */
  describeAll(record: StationRecord): GroupInfo[] {
    const now = Date.now();
    if (hasExpiredLeases(this.sql, now)) {
      this.transact((current) => {
        this.prepare(current, now);
        return ok(null);
      });
    }
    return describeGroups(this.sql, this.host.record() ?? record, now);
  }

  /** Forgets a group (cursor, leases); its dead letters stay until dropped. */
  remove(group: string): Result<{ deleted: true }> {
    const result = this.transact((record) => {
      if (!deleteGroup(this.sql, group)) return groupNotFound(record, group);
      trimAcked(this.sql, record, this.otherFirstUnacked());
      return ok({ deleted: true as const });
    });
    if (result.ok) {
      for (const waiter of this.waiters.of(group)) if (this.waiters.remove(waiter)) waiter.settle([]);
      for (const watcher of this.watchers.of(group)) if (this.watchers.remove(watcher)) watcher.settle(false);
      this.hub.close(1000, "group deleted", group);
    }
    return result;
  }

  deadLetters(query: DeadLetterQuery): Result<DeadLettersResponse> {
    const now = Date.now();
    return this.transact((record) => {
      this.prepare(record, now);
      return ok(listDeadLetters(this.sql, record.partition, query));
    });
  }

  async resend(request: ResendRequest): Promise<Result<ResendResponse>> {
    const now = Date.now();
    const result = this.transact((record) => {
      this.prepare(record, now);
      const outcome = resendDeadLetters(this.sql, request, this.resendTarget(record, now), {
        maxLetters: MAX_RESEND_ALL,
        maxBytes: MAX_RESEND_BYTES,
        chunkBytes: MAX_READ_BYTES,
      });
      return ok(outcome);
    });
    if (result.ok && result.value.resent > 0) await this.onAvailable();
    return result;
  }

  drop(id: number): Result<DropResponse> {
    return this.transact(() =>
      dropDeadLetter(this.sql, id) ? ok({ dropped: 1, id }) : fail(ErrorCode.DeadLetterNotFound, `No dead letter ${id}`, { id }),
    );
  }

  /** A request the Worker forwarded to the object: a subscribe upgrade, or null if not ours. */
  onRequest(request: Request): Promise<Response | null> {
    return this.hub.handleRequest(request);
  }

  /** A frame from a subscriber; false if the socket is not one (another part owns it). */
  onSocketMessage(socket: WebSocket, data: string | ArrayBuffer): Promise<boolean> {
    return this.hub.onMessage(socket, data);
  }

  /**
   * Something became available (produce, nack, resend, expiry): serves waiting fetches
   * first come first served, then subscribers with credit. Leases are written, the alarm set
   * for their end, and only then are answers sent.
   */
  async onAvailable(): Promise<void> {
    const groups = this.waiters.groups();
    const sockets = this.hub.open();
    const watched = this.watchers.groups();
    if (groups.length === 0 && sockets.length === 0 && watched.length === 0) return;
    const now = Date.now();
    const settles: Array<() => void> = [];
    let leaseUntil: number | null = null;
    for (const group of groups) {
      for (const waiter of this.waiters.of(group)) {
        const leased = this.lease(group, waiter.consumer, waiter.max, MAX_FETCH_BYTES, now);
        if (!leased.ok || leased.value.messages.length === 0) break;
        this.waiters.remove(waiter);
        const { messages } = leased.value;
        settles.push(() => waiter.settle(messages));
        leaseUntil = Math.min(leaseUntil ?? Infinity, leased.value.leaseUntil);
      }
    }
    if (leaseUntil !== null) await this.host.wakeBy(leaseUntil);
    for (const settle of settles) settle();
    this.tellWatchers(watched, now);
    await this.hub.push(sockets);
  }

  /** Watchers of a group with something to hand out (after the waiters here took theirs) are told so. */
  private tellWatchers(groups: readonly string[], now: number): void {
    for (const group of groups) {
      const row = loadGroup(this.sql, group);
      const record = this.host.record();
      if (row && record && !hasMessagesToHandOut(this.sql, record, row, now)) continue;
      // A group gone: told "ready", the Worker leases and learns group_not_found at once.
      for (const watcher of this.watchers.of(group)) if (this.watchers.remove(watcher)) watcher.settle(true);
    }
  }

  /** New messages (or delayed ones came due): serve waiting fetches and subscribers. */
  afterAppend(): Promise<void> {
    return this.onAvailable();
  }

  /** The station is being deleted: answer every waiter and close every subscriber. */
  reset(): void {
    for (const waiter of this.waiters.drain()) waiter.settle([]);
    for (const watcher of this.watchers.drain()) watcher.settle(true);
    this.hub.close(1001, "station deleted");
    this.syncedHead = 0;
  }

  /**
   * One transaction: acks `ackFirst` (before any lease expiry, so a late ack still counts),
   * then leases. A group that does not exist is never created here (`missing`: nothing was
   * written). The consumer counts as seen when it asked (a fetch: `asked`) or got messages
   * (a waiter served, a socket pushed).
   */
  private lease(
    group: string,
    consumer: string,
    max: number,
    maxBytes: number,
    now: number,
    asked = false,
    ackFirst: readonly number[] = [],
    ackEpoch: number | null = null,
  ): Result<LeasedBatch & { acked: number; missing?: true }> {
    return this.transact((record) => {
      if (!loadGroup(this.sql, group)) return ok({ messages: [], leaseUntil: now, acked: 0, missing: true as const });
      const acked = ackFirst.length > 0 ? ackOffsets(this.sql, group, ackFirst, ackEpoch) : 0;
      if (acked > 0) trimAcked(this.sql, record, this.otherFirstUnacked());
      this.prepare(record, now);
      // Read after `prepare`, which may have moved the cursor past trimmed offsets.
      const row = loadGroup(this.sql, group)!;
      const batch = leaseMessages(this.sql, record, row, consumer, max, maxBytes, now);
      if (batch.messages.length > 0) countThroughput(this.sql, now, { delivered: batch.messages.length });
      if (asked || batch.messages.length > 0) noteConsumer(this.sql, group, consumer, now);
      return ok({ ...batch, acked });
    });
  }

  private wait(group: string, consumer: string, max: number, waitMs: number, acked: number | undefined): Promise<Result<FetchAnswer>> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        group,
        consumer,
        max,
        settle: (messages) => {
          clearTimeout(timer);
          resolve(ok(answer(messages, acked)));
        },
      };
      const timer = setTimeout(() => {
        if (!this.waiters.remove(waiter)) return;
        // One last look when the time is up (not a loop: the answer goes out either way).
        const last = this.lease(group, consumer, max, MAX_FETCH_BYTES, Date.now());
        if (!last.ok || last.value.messages.length === 0) return resolve(ok(answer([], acked)));
        const { messages } = last.value;
        const done = () => resolve(ok(answer(messages, acked)));
        this.host.wakeBy(last.value.leaseUntil).then(done, done);
      }, waitMs);
      this.waiters.add(waiter);
    });
  }

  /** First step of every group transaction: skip what retention trimmed, end leases that ran out. */
  private prepare(record: StationRecord, now: number): void {
    if (record.firstOffset > this.syncedHead) {
      skipTrimmed(this.sql, record);
      this.syncedHead = record.firstOffset;
    }
    if (expireLeases(this.sql, record, now) > 0) trimAcked(this.sql, record, this.otherFirstUnacked());
  }

  /** Where resent dead letters go: a route that claims them, else back into their group. */
  private resendTarget(record: StationRecord, now: number): ResendTarget {
    return (letter) => {
      const route = this.resendRoutes.find((r) => r.matches(letter));
      if (route) return route.target(letter);
      if (letter.msg_offset === null) {
        return refuse(`Dead letter ${letter.id} never got an offset (${letter.reason}): produce its message again instead`);
      }
      if (letter.group_name === null || !GROUP_NAME_PATTERN.test(letter.group_name)) {
        return refuse(`Dead letter ${letter.id} belongs to no consumer group that could take it back`);
      }
      return requeueMessage(this.sql, record, letter.group_name, letter.msg_offset, contentOfRow(letter), now);
    };
  }
}

function groupNotFound(record: StationRecord | null, group: string): Result<never> {
  const where = record ? ` on station ${record.name}` : "";
  return fail(ErrorCode.GroupNotFound, `No group ${group}${where}: create it with PUT …/groups/${group} (manage right)`, { group });
}

function answer(messages: string[], acked?: number): FetchAnswer {
  return { json: messagesJson(messages, acked), count: messages.length };
}

function refuse(message: string): Result<null> {
  return fail(ErrorCode.NotResendable, message);
}
