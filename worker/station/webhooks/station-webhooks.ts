// Webhooks as the Station object sees them: endpoint management (each change in a transaction),
// the scheduler task that drives delivery, the kick after produce, and the endpoints' entries
// among the station's groups. The shell holds one of these and adds thin RPC methods over it.
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import type { GroupSummary } from "../../../shared/stations";
import {
  type PutWebhookRequest,
  type PutWebhookResponse,
  type ReplayWebhookRequest,
  DeliveryOutcome,
  type WebhookInfo,
  webhookOfGroup,
} from "../../../shared/webhooks";
import { DeadLetterReason } from "../../../shared/dead-letters";
import { contentOfRow, countDeadLettersByGroup, type DeadLetterRow } from "../dead-letters";
import type { ResendRoute } from "../groups/service";
import type { StationContext, StationFeature } from "../feature";
import type { ScheduledTask } from "../scheduler";
import type { StationRecord } from "../log/record";
import { WebhookDispatcher } from "./dispatcher";
import { claimDeliveries, recordAttempt, requeueDeadLetter, webhooksDue } from "./queue";
import { resolverFor } from "./dns";
import { type EndpointSecrets, loadKeyRing, openEndpointSecrets, rotateSecrets, type SecretKeyEnv, type SecretKeyRing, sealEndpointSecrets, secretKeyProblem } from "./secrets";
import { sendAttempt } from "./send";
import { generateSecret } from "./signature";
import {
  countEnabledEndpoints,
  deleteEndpoint,
  describeEndpoint,
  type Endpoint,
  firstUndeliveredOffset,
  listEndpoints,
  loadEndpoint,
  notFound,
  putEndpoint,
  replayEndpoint,
  secretColumns,
  type SecretsToWrite,
  withSecret,
} from "./store";
import { allowsPrivateWebhooks } from "./url";

/** A PUT whose row changed under it starts over at most this many times in all. */
const MAX_PUT_ROUNDS = 3;

export class StationWebhooks implements StationFeature {
  private readonly dispatcher: WebhookDispatcher;
  /** Enabled endpoints, so that produce pays nothing on stations without webhooks. Null = unknown. */
  private enabledCount: number | null = null;

  constructor(private readonly host: StationContext) {
    this.dispatcher = new WebhookDispatcher({
      claim: (slots, inFlight) => {
        const record = host.record();
        if (!record) return [];
        return host.ctx.storage.transactionSync(() => claimDeliveries(host.sql, record, inFlight, slots, Date.now()));
      },
      send: (claim) =>
        sendAttempt(claim, {
          allowPrivate: allowsPrivateWebhooks(host.env),
          resolver: resolverFor(host.env),
          keyRing: () => loadKeyRing(host.env),
        }),
      record: (claim, result) => {
        if (!host.record()) return false;
        const now = Date.now();
        const outcome = host.ctx.storage.transactionSync(() => recordAttempt(host.sql, claim, result, now));
        if (outcome === DeliveryOutcome.Delivered) return false;
        this.enabledCount = null; // the attempt may have disabled its endpoint
        return true;
      },
      claimed: (claims) => {
        const leaseEnds = Math.min(...claims.map((claim) => claim.leaseUntil));
        this.wake(leaseEnds);
      },
      settled: () => {
        const due = this.dueAt(Date.now());
        if (due !== null) this.wake(due);
      },
    });
  }

  /** The scheduler task: starts due attempts; they finish in the background, each recorded as it ends. */
  readonly tasks: readonly ScheduledTask[] = [
    {
      name: "webhooks",
      dueAt: (now) => this.dueAt(now),
      run: () => this.dispatcher.fill(),
    },
  ];

  /** When the alarm should next come for delivery: now if an attempt can start, else the next retry or lease. */
  private dueAt(now: number): number | null {
    const record = this.host.record();
    if (!record) return null;
    const { dueNow, next } = webhooksDue(this.host.sql, record, now, this.dispatcher.view, this.dispatcher.isFull);
    return dueNow ? now : next;
  }

  /** After new messages: start delivering them at once if an endpoint waits for them. */
  afterAppend(): void {
    try {
      if (this.enabledCount === null) this.enabledCount = countEnabledEndpoints(this.host.sql);
      if (this.enabledCount > 0) this.kick();
    } catch (error) {
      // The batch is stored: a bug here must not turn its answer into an error. The alarm retries.
      console.error("webhook kick after produce failed", error);
      this.wake(Date.now() + 1000);
    }
  }

  /**
   * Creates or updates an endpoint. Its secrets are sealed first (WebCrypto is async, so outside
   * the transaction); the transaction then writes them only if the row's secrets are still those
   * they were made from, else the PUT starts over (a concurrent PUT or re-sealing won the race).
   */
  async put(name: string, request: PutWebhookRequest, url: string): Promise<Result<{ created: boolean; webhook: PutWebhookResponse }>> {
    const ring = await loadKeyRing(this.host.env);
    if (ring === null) return fail(ErrorCode.NotConfigured, secretKeyProblem(this.host.env) ?? "WEBHOOK_SECRET_KEY is not set");
    for (let round = 1; ; round++) {
      const now = Date.now();
      const prepared = await this.prepareSecrets(ring, name, request, now);
      if (!prepared.ok) return prepared;
      const { secrets, generatedSecret } = prepared.value;
      const result = this.host.transact((record) => putEndpoint(this.host.sql, record, name, request, url, secrets, now));
      if (!result.ok && result.error.code === ErrorCode.Conflict && round < MAX_PUT_ROUNDS) continue;
      if (!result.ok) return result;
      this.enabledCount = null;
      this.kick();
      const { created, endpoint } = result.value;
      return ok({ created, webhook: withSecret(this.describe(endpoint), generatedSecret) });
    }
  }

  /** The secrets a PUT leaves: kept, made (new endpoint without one) or rotated; sealed for the row. */
  private async prepareSecrets(
    ring: SecretKeyRing,
    name: string,
    request: PutWebhookRequest,
    now: number,
  ): Promise<Result<{ secrets: SecretsToWrite; generatedSecret: string | null }>> {
    const existing = loadEndpoint(this.host.sql, name);
    if (existing === null) {
      const current = request.secret ?? generateSecret();
      const sealed = await sealEndpointSecrets(ring, name, { current, previous: [] }, now);
      return ok({ secrets: { basis: null, sealed }, generatedSecret: request.secret === undefined ? current : null });
    }
    const basis = secretColumns(existing.row);
    const opened = await openEndpointSecrets(ring, name, basis, now);
    let secrets: EndpointSecrets;
    if (!opened.ok) {
      // Sealed under a key this worker no longer has: only a new secret (with no grace: the old
      // one cannot sign anyway) gets the endpoint going again.
      if (request.secret === undefined) {
        return fail(ErrorCode.NotConfigured, `The secret of webhook ${name} cannot be opened with WEBHOOK_SECRET_KEY or WEBHOOK_SECRET_KEY_PREVIOUS; PUT a new secret`, { webhook: name });
      }
      secrets = { current: request.secret, previous: [] };
    } else if (request.secret === undefined) {
      secrets = opened.secrets;
    } else {
      const rotated = rotateSecrets(opened.secrets, request.secret, request.rotationGraceMs, now);
      if (!rotated.ok) return rotated;
      secrets = rotated.value;
    }
    return ok({ secrets: { basis, sealed: await sealEndpointSecrets(ring, name, secrets, now) }, generatedSecret: null });
  }

  /**
   * The endpoint's current secret, opened: the Worker gives it to the station's other
   * partitions, so that every partition's deliveries verify with the one secret.
   */
  async currentSecret(name: string): Promise<Result<string>> {
    const endpoint = loadEndpoint(this.host.sql, name);
    if (!endpoint) return notFound(name);
    const ring = await loadKeyRing(this.host.env);
    if (ring === null) return fail(ErrorCode.NotConfigured, secretKeyProblem(this.host.env) ?? "WEBHOOK_SECRET_KEY is not set");
    const opened = await openEndpointSecrets(ring, name, secretColumns(endpoint.row), Date.now());
    if (!opened.ok) return fail(ErrorCode.NotConfigured, `The secret of webhook ${name} cannot be opened with WEBHOOK_SECRET_KEY or WEBHOOK_SECRET_KEY_PREVIOUS; PUT a new secret`, { webhook: name });
    return ok(opened.secrets.current);
  }

  get(name: string): Result<WebhookInfo> {
    const endpoint = loadEndpoint(this.host.sql, name);
    return endpoint ? ok(this.describe(endpoint)) : notFound(name);
  }

  list(): WebhookInfo[] {
    return listEndpoints(this.host.sql).map((endpoint) => this.describe(endpoint));
  }

  delete(name: string): Result<{ deleted: true }> {
    const result = this.host.transact(() => deleteEndpoint(this.host.sql, name));
    this.enabledCount = null;
    return result;
  }

  replay(name: string, request: ReplayWebhookRequest): Result<WebhookInfo> {
    const result = this.host.transact((record) => replayEndpoint(this.host.sql, record, name, request));
    if (!result.ok) return result;
    this.kick();
    return ok(this.describe(result.value));
  }

  /** Each endpoint as a group of the station (`webhook:<name>`): it is one, whose member is the endpoint. */
  groupSummaries(): GroupSummary[] {
    const endpoints = this.list();
    if (endpoints.length === 0) return [];
    const deadLettersByGroup = countDeadLettersByGroup(this.host.sql);
    return endpoints.map((info) => ({
      name: info.group,
      ackFloor: info.cursor.ackFloor,
      pending: info.cursor.pending,
      lag: info.cursor.lag,
      deadLetters: deadLettersByGroup.get(info.group) ?? 0,
    }));
  }

  /** The lowest offset an endpoint still needs (for `retention.untilAcked`), or null. */
  firstUndelivered(): number | null {
    return firstUndeliveredOffset(this.host.sql);
  }

  /** DLS resend of `webhook_failed` letters: back into their endpoint's queue (in the resend's transaction). */
  readonly resendRoute: ResendRoute = {
    matches: (letter) => letter.reason === DeadLetterReason.WebhookFailed && letter.group_name !== null && webhookOfGroup(letter.group_name) !== null,
    target: (letter) => this.requeue(letter, webhookOfGroup(letter.group_name!)!),
  };

  private requeue(letter: DeadLetterRow, endpoint: string): Result<null> {
    const outcome = requeueDeadLetter(
      this.host.sql,
      endpoint,
      letter.msg_offset,
      contentOfRow(letter),
      Date.now(),
    );
    if (outcome.ok) this.wake(Date.now());
    return outcome;
  }

  /** The station was deleted: forget attempts in flight. */
  reset(): void {
    this.dispatcher.reset();
    this.enabledCount = null;
  }

  private describe(endpoint: Endpoint): WebhookInfo {
    return describeEndpoint(this.host.sql, this.host.record()!, endpoint, this.dispatcher.view.count(endpoint.id), Date.now());
  }

  /** Starts due attempts now (from this request); with none in flight, sets the alarm for the rest. */
  private kick(): void {
    this.dispatcher.fill();
    if (this.dispatcher.activeCount > 0) return; // each attempt that ends sees to the alarm
    const due = this.dueAt(Date.now());
    if (due !== null) this.wake(due);
  }

  private wake(at: number): void {
    this.host.wakeBy(at).catch((error: unknown) => console.error("webhook alarm", error));
  }
}
