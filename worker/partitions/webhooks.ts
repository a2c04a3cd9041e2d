// Webhook endpoints of a station over its partitions. Each partition delivers its own messages
// in its own order (so per key), and holds its own copy of each endpoint. Partition 0's copy is
// the endpoint's record: it is written first, and its secret is given to every other partition
// explicitly, so that every delivery verifies with the one secret. Changes, deletes and replays
// reach every partition; GET answers partition 0's view with each partition's delivery listed.
import { ErrorCode, ok, type Result } from "../../shared/errors";
import type { PutWebhookRequest, PutWebhookResponse, ReplayWebhookRequest, WebhookInfo, WebhookListResponse, WebhookPartitionInfo } from "../../shared/webhooks";
import type { Env } from "../env";
import { partitionCount, partitionInRange, partitionStub } from "./objects";

type PutAnswer = Result<{ created: boolean; webhook: PutWebhookResponse }>;

function laterPartitions(count: number): number[] {
  return Array.from({ length: count - 1 }, (_, index) => index + 1);
}

/** Creates or updates the endpoint on every partition, partition 0 first; its secret everywhere. */
export async function putStationWebhook(env: Env, station: string, name: string, request: PutWebhookRequest, url: string): Promise<PutAnswer> {
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  const first: PutAnswer = await partitionStub(env, station, 0).putWebhook(name, request, url);
  if (!first.ok || counted.value === 1) return first;
  const secret = await secretFor(env, station, name, request, first.value.webhook);
  if (!secret.ok) return secret;
  const later: PutAnswer[] = await Promise.all(
    laterPartitions(counted.value).map((partition) => partitionStub(env, station, partition).putWebhook(name, { ...request, secret: secret.value }, url)),
  );
  const failed = later.find((answer) => !answer.ok);
  if (failed) return failed;
  const infos = later.map((answer) => (answer.ok ? answer.value.webhook : first.value.webhook));
  return ok({ created: first.value.created, webhook: { ...withPartitions(first.value.webhook, infos), ...(first.value.webhook.secret ? { secret: first.value.webhook.secret } : {}) } });
}

/** The secret the other partitions take: the one sent, else the one partition 0 made, else partition 0's current one. */
async function secretFor(env: Env, station: string, name: string, request: PutWebhookRequest, first: PutWebhookResponse): Promise<Result<string>> {
  if (request.secret !== undefined) return ok(request.secret);
  if (first.secret !== undefined) return ok(first.secret);
  return partitionStub(env, station, 0).webhookSecret(name);
}

/**
 * Gives each endpoint of partition 0 to `partitions` (new ones, empty): same options, same
 * secret, from their first message. Called before the grown count is visible, so no message
 * reaches a new partition before its endpoints do.
 */
export async function copyWebhooksTo(env: Env, station: string, partitions: readonly number[]): Promise<Result<void>> {
  if (partitions.length === 0) return ok(undefined);
  const listed: Result<WebhookListResponse> = await partitionStub(env, station, 0).listWebhooks();
  if (!listed.ok) return listed;
  for (const info of listed.value.webhooks) {
    const secret: Result<string> = await partitionStub(env, station, 0).webhookSecret(info.name);
    if (!secret.ok) return secret;
    const request: PutWebhookRequest = {
      url: info.url,
      secret: secret.value,
      ordered: info.ordered,
      maxInFlight: info.maxInFlight,
      filter: info.filter,
      start: "earliest",
      retry: info.retry,
      timeoutMs: info.timeoutMs,
      disableAfterMs: info.disableAfterMs,
      rotationGraceMs: info.rotationGraceMs,
      enabled: info.enabled,
    };
    const made: PutAnswer[] = await Promise.all(partitions.map((partition) => partitionStub(env, station, partition).putWebhook(info.name, request, info.url)));
    const failed = made.find((answer) => !answer.ok);
    if (failed && !failed.ok) return failed;
  }
  return ok(undefined);
}

export async function getStationWebhook(env: Env, station: string, name: string): Promise<Result<WebhookInfo>> {
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  const answers: Array<Result<WebhookInfo>> = await Promise.all(
    Array.from({ length: counted.value }, (_, partition) => partitionStub(env, station, partition).getWebhook(name)),
  );
  const first = answers[0]!;
  if (!first.ok || counted.value === 1) return first;
  return ok(withPartitions(first.value, answers.slice(1).map((answer) => (answer.ok ? answer.value : null))));
}

export async function listStationWebhooks(env: Env, station: string): Promise<Result<WebhookListResponse>> {
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  const answers: Array<Result<WebhookListResponse>> = await Promise.all(
    Array.from({ length: counted.value }, (_, partition) => partitionStub(env, station, partition).listWebhooks()),
  );
  const first = answers[0]!;
  if (!first.ok || counted.value === 1) return first;
  const later = answers.slice(1).map((answer) => new Map(answer.ok ? answer.value.webhooks.map((info) => [info.name, info]) : []));
  return ok({ webhooks: first.value.webhooks.map((info) => withPartitions(info, later.map((byName) => byName.get(info.name) ?? null))) });
}

/** Deletes the endpoint everywhere; 404 only when partition 0 lacks it. */
export async function deleteStationWebhook(env: Env, station: string, name: string): Promise<Result<{ deleted: true }>> {
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  const later: Array<Result<{ deleted: true }>> = await Promise.all(laterPartitions(counted.value).map((partition) => partitionStub(env, station, partition).deleteWebhook(name)));
  const failed = later.find((answer) => !answer.ok && answer.error.code !== ErrorCode.WebhookNotFound);
  if (failed) return failed;
  return partitionStub(env, station, 0).deleteWebhook(name);
}

/** `earliest` replays every partition; an offset replays its partition (0 by default). */
export async function replayStationWebhook(env: Env, station: string, name: string, request: ReplayWebhookRequest): Promise<Result<WebhookInfo>> {
  const { partition, ...replay } = request;
  if (replay.from !== "earliest") {
    const target = partition ?? 0;
    if (target > 0) {
      const inRange = await partitionInRange(env, station, target);
      if (!inRange.ok) return inRange;
    }
    const replayed: Result<WebhookInfo> = await partitionStub(env, station, target).replayWebhook(name, replay);
    return !replayed.ok || target === 0 ? replayed : getStationWebhook(env, station, name);
  }
  const counted = await partitionCount(env, station);
  if (!counted.ok) return counted;
  const answers: Array<Result<WebhookInfo>> = await Promise.all(
    Array.from({ length: counted.value }, (_, index) => partitionStub(env, station, index).replayWebhook(name, replay)),
  );
  const failed = answers.find((answer) => !answer.ok);
  if (failed) return failed;
  const infos = answers.map((answer) => (answer.ok ? answer.value : null));
  return ok(counted.value === 1 ? infos[0]! : withPartitions(infos[0]!, infos.slice(1)));
}

/** Partition 0's view with every partition's delivery; `later[i]` is partition i + 1's (null: it lacks the endpoint). */
function withPartitions(first: WebhookInfo, later: ReadonlyArray<WebhookInfo | null>): WebhookInfo {
  const { secret: _, ...view } = first as PutWebhookResponse;
  const partitions: WebhookPartitionInfo[] = [{ partition: 0, cursor: first.cursor, health: first.health }];
  later.forEach((info, index) => {
    if (info) partitions.push({ partition: index + 1, cursor: info.cursor, health: info.health });
  });
  return { ...view, partitions };
}
