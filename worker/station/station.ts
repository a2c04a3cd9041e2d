// The Station Durable Object: one per station, the single writer of its log. A thin shell:
// lifecycle, RPC methods and transactions; the log, producers, retention and the alarm live
// in modules it delegates to. Every RPC returns a Result (only name and message of an Error
// survive the stub), and every write happens in one storage transaction.
import { DurableObject } from "cloudflare:workers";
import type { StationConfig } from "../../shared/config";
import { ErrorCode, fail, ok, type Result } from "../../shared/errors";
import { DEFAULT_READ_LIMIT, MAX_READ_BYTES } from "../../shared/limits";
import type { ProduceResponse, ProduceRuling, ReadResponse } from "../../shared/messages";
import type { DeadLetterQuery, DeadLettersResponse, DropResponse, ResendRequest, ResendResponse } from "../../shared/dead-letters";
import type { AckResponse, DeadLetterResponse, ExtendResponse, GroupConfig, GroupInfo, NackResponse, SeekResponse, SeekTarget } from "../../shared/groups";
import type { StationInfo } from "../../shared/stations";
import type { PutWebhookRequest, PutWebhookResponse, ReplayWebhookRequest, WebhookInfo, WebhookListResponse } from "../../shared/webhooks";
import { catalogStub } from "../catalog/stub";
import { answerRuledBatch, countDelayed, countThroughput, deliveredTotal, enforceRetention, nextIdExpiry, nextVisibleAt, type PreparedBatch, produceBatch, ProducerSeqs, pruneExpiredIds, readReplay, readThroughput, retentionDueAt, StationAdmission, StationRecord, toMessage } from "./log";
import { compactionDueAt, DocCompactor, DocSockets, type DocStateValue, isDocStation, readDocState } from "./documents";
import { Archiver } from "./archive/archiver";
import { ArchiveMissing, ArchiveReader } from "./archive/reader";
import { SchemaCache, type StationSchemaText } from "./schema";
import { SocketGuard } from "./socket-guard";
import type { StationEnv } from "./station-env";
import type { StationContext, StationFeature } from "./feature";
import { type ScheduledTask, Scheduler } from "./scheduler";
import { migrate } from "./tables";
import { countDeadLetters } from "./dead-letters";
import { type FetchAnswer, GroupService, type LeasedShare } from "./groups";
import { StationWebhooks } from "./webhooks";

/** Thrown inside a transaction to roll it back and hand a refusal to the caller. */
class Rollback {
  constructor(readonly result: Result<never>) {}
}

export class Station extends DurableObject<StationEnv> {
  private readonly sql: SqlStorage;
  private readonly producers: ProducerSeqs;
  private record: StationRecord | null;
  /** Built first: every feature may ask it for a wake-up from its constructor. */
  private readonly scheduler: Scheduler;
  /** What every feature gets of this object (worker/station/feature.ts). */
  private readonly context: StationContext;
  /** Rates and storage quota (worker/station/log/admission.ts). */
  private readonly admission = new StationAdmission(this.env);
  private readonly docCompactor: DocCompactor;
  private readonly schemas: SchemaCache;
  /** Keeps open sockets within their token: expiry, key rotation, frame rates (worker/station/socket-guard.ts). */
  private readonly socketGuard: SocketGuard;
  /** Consumer groups, leases, long-poll, subscribers and the DLS (worker/station/groups/). */
  private readonly groups: GroupService;
  /** Webhook endpoints and their delivery (worker/station/webhooks/station-webhooks.ts). */
  private readonly webhooks: StationWebhooks;
  /** Live sockets of a doc station: pushes and awareness (worker/station/documents/sockets.ts). */
  private readonly docSockets: DocSockets;
  /** Every feature, in the order its hooks run: groups serve waiting fetches before webhooks start sending. */
  private readonly features: readonly StationFeature[];
  /** Delayed messages visible by this time have been announced to groups and webhooks (0 after a restart: once more, harmless). */
  private visibilityCheckedAt = 0;
  /** `retention.archive`: trimmed messages go to R2 first, replay reads them back (worker/station/archive/). */
  private readonly archiver: Archiver;
  private readonly archiveReader: ArchiveReader;

  constructor(ctx: DurableObjectState, env: StationEnv) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
    this.record = StationRecord.load(this.sql);
    this.producers = new ProducerSeqs(this.sql);
    this.schemas = new SchemaCache((name, version) => catalogStub(env).getSchema(name, version));
    this.docCompactor = new DocCompactor(this.sql);
    this.scheduler = new Scheduler(ctx.storage);
    this.context = {
      ctx,
      sql: this.sql,
      env,
      record: () => this.record,
      transact: (work) => this.transact(work),
      wakeBy: (at) => this.scheduler.wakeBy(at),
    };
    this.socketGuard = new SocketGuard(this.context, (bytes, now) => this.admission.admit(this.record?.config, bytes, now));
    this.webhooks = new StationWebhooks(this.context);
    this.groups = new GroupService(this.context, { socketGuard: this.socketGuard, otherFirstUnacked: () => this.webhooks.firstUndelivered() });
    this.groups.addResendRoute(this.webhooks.resendRoute);
    this.docSockets = new DocSockets(this.context, this.socketGuard);
    this.features = [this.docSockets, this.groups, this.webhooks, this.socketGuard];
    this.archiver = new Archiver({ sql: this.sql, bucket: env.ARCHIVE, record: () => this.record, transact: (work) => this.transact(work) });
    this.archiveReader = new ArchiveReader(env.ARCHIVE);
    this.scheduler.register(this.logTasks());
    for (const feature of this.features) this.scheduler.register(feature.tasks ?? []);
  }

  /** The log's own upkeep: retention (and archiving), dedup expiry, doc compaction, delayed messages coming due. */
  private logTasks(): ScheduledTask[] {
    return [
      {
        name: "retention",
        // A doc station meets its retention limits by compacting (below), never by dropping unmerged updates.
        // An archiving station without its bucket waits: nothing leaves the object unarchived.
        dueAt: (now) =>
          this.record && !isDocStation(this.record) && this.archiver.canTrim(this.record) ? retentionDueAt(this.sql, this.record, now) : null,
        run: async (now) => {
          if (this.record?.config.retention.archive) {
            await this.archiver.run(now);
            return;
          }
          this.transact((record) => {
            const trimmed = enforceRetention(this.sql, record, now);
            // The head and counters moved: persist them with the delete, or a restart undoes them.
            if (trimmed > 0) record.save(this.sql);
            return ok(trimmed);
          });
        },
      },
      {
        name: "dedup-expiry",
        dueAt: () => nextIdExpiry(this.sql),
        run: (now) => pruneExpiredIds(this.sql, now),
      },
      {
        name: "doc-compaction",
        dueAt: (now) => this.docCompactor.dueAt(this.record, now),
        run: (now) => this.docCompactor.run(now, (work) => this.transact(work)),
      },
      {
        // Delayed messages (`delayMs`): when the earliest comes due, groups serve their waiting
        // fetches and subscribers, and webhooks take it. The time lives in SQL, so a restart keeps it.
        name: "delayed-visibility",
        dueAt: () => nextVisibleAt(this.sql, this.visibilityCheckedAt),
        run: async (now) => {
          this.visibilityCheckedAt = now;
          await this.afterAppend(this.record?.lastOffset ?? 0);
        },
      },
    ];
  }

  /** Creates the station (this object as its `partition`), or replaces its config. `created` tells which. */
  async configure(name: string, config: StationConfig, partition = 0): Promise<Result<{ created: boolean; info: StationInfo }>> {
    const now = Date.now();
    if (config.retention.archive && !this.env.ARCHIVE) {
      return fail(ErrorCode.ArchiveUnavailable, "retention.archive needs an R2 bucket bound as ARCHIVE (wrangler.toml [[r2_buckets]])");
    }
    if (config.retention.archive && config.retention.untilAcked) {
      return fail(ErrorCode.InvalidRequest, "retention.archive cannot be combined with retention.untilAcked: acked messages would leave unarchived");
    }
    const created = this.record === null;
    if (this.record === null) {
      this.record = StationRecord.create(this.sql, name, config, now, partition);
    } else {
      this.record.config = config;
      this.record.updatedAt = now;
      this.record.save(this.sql);
    }
    await this.scheduler.reschedule(now);
    return ok({ created, info: this.describe(this.record) });
  }

  /** How many partitions the station has (partition 0's config is the one the Worker routes by). */
  async partitionCount(): Promise<Result<number>> {
    if (!this.record) return this.notFound();
    return ok(this.record.config.partitions ?? 1);
  }

  async info(): Promise<Result<StationInfo>> {
    if (!this.record) return this.notFound();
    return ok(this.describe(this.record));
  }

  async produce(batch: PreparedBatch): Promise<Result<ProduceResponse>> {
    const now = Date.now();
    if (!this.record) return this.notFound();
    // Invariant 2: a batch whose seqs were all ruled before gets those rulings, whatever the
    // rate, quota, limits or schema say now. Before any await, so no other produce interleaves.
    const ruled = answerRuledBatch(this.sql, this.producers, batch);
    if (ruled) return this.stamped(ruled);
    const admitted = this.admission.admitBatch(this.record.config, batch, now);
    if (!admitted.ok) return admitted;
    const schema = await this.schemas.schemasForBatch(() => this.record?.config.schema ?? null, now, batch);
    if (!schema.ok) return schema;
    const lastBefore = this.record?.lastOffset ?? 0;
    const result = this.transact(this.admission.withinQuota((record) => {
      const producedBefore = record.producedCount;
      const produced = produceBatch(this.sql, this.producers, record, batch, now, schema.value);
      if (produced.ok) countThroughput(this.sql, now, { produced: record.producedCount - producedBefore });
      return produced;
    }));
    if (result.ok) {
      await this.afterAppend(lastBefore);
      await this.scheduleUpkeep(now, batch);
    }
    return this.stamped(result);
  }

  /** Rulings as the wire has them: each names the partition that made it (this object's). */
  private stamped(result: Result<{ results: ProduceRuling[] }>): Result<ProduceResponse> {
    if (!result.ok) return result;
    const partition = this.record?.partition ?? 0;
    return ok({ results: result.value.results.map((ruling) => ({ ...ruling, partition })) });
  }

  async read(fromOffset: number | undefined, limit: number = DEFAULT_READ_LIMIT): Promise<Result<ReadResponse>> {
    const record = this.record;
    if (!record) return this.notFound();
    const admitted = this.admission.admit(record.config, 0, Date.now());
    if (!admitted.ok) return admitted;
    // Bounded by bytes as well as count (at least one message): `nextOffset` says where to go on.
    // Offsets below the head come from the R2 archive when the station archived them.
    try {
      const page = await readReplay(this.sql, this.archiveReader, () => this.record ?? record, fromOffset, limit, MAX_READ_BYTES);
      return ok({ messages: page.rows.map((row) => toMessage(row, record.partition)), nextOffset: page.nextOffset });
    } catch (error) {
      if (error instanceof ArchiveMissing) return fail(ErrorCode.ArchiveUnavailable, error.message);
      throw error;
    }
  }

  /** The schema produce is checked against now, as text (for the SDK's own check); null if none. */
  async currentSchema(): Promise<Result<StationSchemaText | null>> {
    if (!this.record) return this.notFound();
    return this.schemas.describe(() => this.record?.config.schema ?? null, Date.now());
  }

  /** Told by a schema PUT: `name` has a new latest `version` (used if this station follows it). */
  async learnSchemaVersion(name: string, version: number): Promise<void> {
    this.schemas.learnLatest(name, version, Date.now());
  }

  /** A doc station's state as one merged update (snapshot + tail), or what `stateVector` lacks. */
  async readDoc(stateVector: Uint8Array | null): Promise<Result<DocStateValue>> {
    const record = this.record;
    if (!record) return this.notFound();
    if (!isDocStation(record)) return fail(ErrorCode.NotADoc, `Station ${record.name} is not a doc station (kind: "doc")`);
    return ok(readDocState(this.sql, record, stateVector));
  }

  /** Deletes the station and everything it holds. */
  async destroy(): Promise<Result<{ deleted: true }>> {
    if (!this.record) return this.notFound();
    await this.archiver.forget(this.record.name, this.record.createdAt);
    this.archiveReader.forget();
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    migrate(this.sql);
    this.record = null;
    this.producers.forget();
    for (const feature of this.features) feature.reset?.();
    return ok({ deleted: true });
  }

  /** Creates or updates a webhook endpoint; `url` passed the edge's guard. */
  async putWebhook(name: string, request: PutWebhookRequest, url: string): Promise<Result<{ created: boolean; webhook: PutWebhookResponse }>> {
    return this.onStation(() => this.webhooks.put(name, request, url));
  }

  /** An endpoint's current secret, for the station's other partitions (never answered over HTTP). */
  async webhookSecret(name: string): Promise<Result<string>> {
    if (!this.record) return this.notFound();
    return this.webhooks.currentSecret(name);
  }

  async getWebhook(name: string): Promise<Result<WebhookInfo>> {
    return this.onStation(() => this.webhooks.get(name));
  }

  async listWebhooks(): Promise<Result<WebhookListResponse>> {
    if (!this.record) return this.notFound();
    return ok({ webhooks: this.webhooks.list() });
  }

  async deleteWebhook(name: string): Promise<Result<{ deleted: true }>> {
    return this.onStation(() => this.webhooks.delete(name));
  }

  async replayWebhook(name: string, request: ReplayWebhookRequest): Promise<Result<WebhookInfo>> {
    return this.onStation(() => this.webhooks.replay(name, request));
  }

  /** Acks `ack`, then leases up to `max` messages of `group` to `consumer`, waiting up to `waitMs` for some. */
  async groupFetch(group: string, consumer: string, max: number, waitMs: number, ack: number[] = [], ackEpoch: number | null = null): Promise<Result<FetchAnswer>> {
    const admitted = this.admitRequest();
    if (!admitted.ok) return admitted;
    return this.groups.fetch(group, consumer, max, waitMs, ack, ackEpoch);
  }

  async groupAck(group: string, offsets: number[], epoch: number | null = null): Promise<Result<AckResponse>> {
    const admitted = this.admitRequest();
    if (!admitted.ok) return admitted;
    return this.groups.ack(group, offsets, epoch);
  }

  async groupNack(group: string, offsets: number[], delayMs: number, epoch: number | null = null): Promise<Result<NackResponse>> {
    const admitted = this.admitRequest();
    if (!admitted.ok) return admitted;
    return this.groups.nack(group, offsets, delayMs, epoch);
  }

  /** Moves a group (`…/seek`): before the new position acked, from it on never handed out. */
  async groupSeek(group: string, target: SeekTarget): Promise<Result<SeekResponse>> {
    if (!this.record) return this.notFound();
    return this.groups.seek(group, target);
  }

  async groupExtend(group: string, consumer: string, offsets: number[], epoch: number | null = null): Promise<Result<ExtendResponse>> {
    const admitted = this.admitRequest();
    if (!admitted.ok) return admitted;
    return this.groups.extend(group, consumer, offsets, epoch);
  }

  async groupDeadLetter(group: string, offsets: number[], reason: string, epoch: number | null = null): Promise<Result<DeadLetterResponse>> {
    const admitted = this.admitRequest();
    if (!admitted.ok) return admitted;
    return this.groups.deadLetter(group, offsets, reason, epoch);
  }

  async putGroup(group: string, config: GroupConfig): Promise<Result<{ created: boolean; info: GroupInfo }>> {
    return this.groups.configure(group, config);
  }

  async getGroup(group: string): Promise<Result<GroupInfo>> {
    return this.groups.describe(group);
  }

  async deleteGroup(group: string): Promise<Result<{ deleted: true }>> {
    return this.groups.remove(group);
  }

  /** A partitioned station's share of a fetch (worker/partitions/groups-lease.ts): leases up to `max` and about `maxBytes`; never waits. */
  async groupLease(group: string, consumer: string, max: number, maxBytes: number): Promise<Result<LeasedShare>> {
    const admitted = this.admission.admit(this.record?.config, 0, Date.now());
    if (!admitted.ok) return admitted;
    return this.groups.leaseShare(group, consumer, max, maxBytes);
  }

  /** Waits up to `waitMs` until `group` has something to hand out, leasing nothing; `id` names the wait for `groupUnwatch`. */
  async groupWatch(group: string, id: string, waitMs: number): Promise<Result<{ ready: boolean }>> {
    return this.groups.watch(group, id, waitMs);
  }

  /** Ends the wait `id` early: the caller found messages on another partition. */
  async groupUnwatch(group: string, id: string): Promise<void> {
    this.groups.unwatch(group, id);
  }

  /** This partition joins a group the station has: made from the log's head, `config.start` recorded as given. */
  async adoptGroup(group: string, config: GroupConfig): Promise<Result<{ created: boolean; info: GroupInfo }>> {
    if (!this.record) return this.notFound();
    return this.groups.adopt(group, config);
  }

  async listDeadLetters(query: DeadLetterQuery): Promise<Result<DeadLettersResponse>> {
    return this.groups.deadLetters(query);
  }

  async resendDeadLetters(request: ResendRequest): Promise<Result<ResendResponse>> {
    return this.groups.resend(request);
  }

  async dropDeadLetter(id: number): Promise<Result<DropResponse>> {
    return this.groups.drop(id);
  }

  /** WebSocket upgrades the Worker forwards after checking token and names (group subscribe). */
  override async fetch(request: Request): Promise<Response> {
    for (const feature of this.features) {
      const answer = await feature.onRequest?.(request);
      if (answer) return answer;
    }
    return new Response("Not found", { status: 404 });
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    for (const feature of this.features) if (await feature.onSocketMessage?.(socket, message)) return;
  }

  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    // Doc sockets retire their awareness; a subscriber's leases are left to run out and redeliver.
    for (const feature of this.features) feature.onSocketClose?.(socket);
    try {
      socket.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  override async alarm(): Promise<void> {
    await this.scheduler.runDue(Date.now());
  }

  /**
   * Messages became readable (stored above `lastBefore`, or delayed ones came due): each feature
   * hears of it in list order. A feature whose hook is synchronous runs before anything awaits,
   * so the doc sockets read the new updates before anything can trim them.
   */
  private async afterAppend(lastBefore: number): Promise<void> {
    for (const feature of this.features) {
      const done = feature.afterAppend?.(lastBefore);
      if (done) await done;
    }
  }

  /** After new messages: retention or dedup expiry may now be due. */
  private async scheduleUpkeep(now: number, batch: PreparedBatch): Promise<void> {
    const record = this.record!;
    const { retention, dedupWindowMs } = record.config;
    if (retention.maxAgeMs !== undefined || retention.maxMessages !== undefined || retention.maxBytes !== undefined) {
      const due = retentionDueAt(this.sql, record, now);
      if (due !== null) await this.scheduler.wakeBy(due);
    }
    // A delayed message: the alarm wakes groups and webhooks when it becomes visible.
    const visibleAt = nextVisibleAt(this.sql, now);
    if (visibleAt !== null) await this.scheduler.wakeBy(visibleAt);
        const rememberedIds = batch.messages.some((m) => m.seq === null && m.id !== null);
    if (dedupWindowMs > 0 && rememberedIds) await this.scheduler.wakeBy(now + dedupWindowMs);
    const compactAt = compactionDueAt(this.sql, record, now);
    if (compactAt !== null) await this.scheduler.wakeBy(compactAt);
  }

  /**
   * Runs `work` in one storage transaction. A refusal (a failed Result) rolls back like an
   * exception does, and the in-memory record is reloaded whenever a transaction is undone,
   * so a batch is stored whole or not at all, in storage and in memory alike.
   */
  private transact<T>(work: (record: StationRecord) => Result<T>): Result<T> {
    const record = this.record;
    if (!record) return this.notFound();
    try {
      return this.ctx.storage.transactionSync(() => {
        const result = work(record);
        if (!result.ok) throw new Rollback(result);
        return result;
      });
    } catch (error) {
      this.record = StationRecord.load(this.sql);
      this.producers.forget();
      if (error instanceof Rollback) return error.result;
      throw error;
    }
  }

  private describe(record: StationRecord): StationInfo {
    return {
      name: record.name,
      config: record.config,
      stats: record.stats(countDeadLetters(this.sql), deliveredTotal(this.sql), countDelayed(this.sql, Date.now())),
      groups: [...this.groups.describeAll(record), ...this.webhooks.groupSummaries()],
      throughput: readThroughput(this.sql, Date.now()),
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
    };
  }

  /** A read or a settle pays the station's request rate (its HTTP and socket traffic share it). */
  private admitRequest(): Result<void> {
    return this.admission.admit(this.record?.config, 0, Date.now());
  }

  /** `work` on an existing station; 404 `station_not_found` otherwise. */
  private onStation<T>(work: () => Result<T> | Promise<Result<T>>): Result<T> | Promise<Result<T>> {
    return this.record ? work() : this.notFound();
  }

  private notFound(): Result<never> {
    return fail(ErrorCode.StationNotFound, "No such station: create it with PUT /v1/stations/{station}");
  }
}
