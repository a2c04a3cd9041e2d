// Consumer groups of a station: fetch (long-poll), ack, nack, extend, dead-letter and seek need the consume right, as does
// the WebSocket subscribe; a group's explicit config (PUT/GET/DELETE) needs manage. A grant that
// names `groups` reaches those groups only (stationAccess checks the group's name and grant). A subscribe hands the object the caller's socket
// credential, so the socket lives no longer than its token (worker/station/socket-guard.ts).
// Each route reads the station's partition count (cached): with one partition it makes the one
// call to the station's object it always made; with more it goes through worker/partitions/groups-*.
import { type Context, Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode, type WireError } from "../../shared/errors";
import {
  AckRequestSchema,
  DeadLetterRequestSchema,
  ExtendRequestSchema,
  FetchRequestSchema,
  GroupConfigSchema,
  NackRequestSchema,
  SeekRequestSchema,
  SubscribeQuerySchema,
} from "../../shared/groups";
import { MAX_REQUEST_BYTES } from "../../shared/limits";
import { offersWebSocketProtocol, WEBSOCKET_PROTOCOL } from "../../shared/websocket-auth";
import { socketCredentialOf } from "../auth/socket-credential";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { readJson, unwrapValidation } from "../http/read-json";
import { stationAccess } from "../middleware/station-access";
import { type OwnOffsets, ownOffsets, subscribeRequest } from "../station/groups";
import { stationStub } from "../stubs";
import { checkPartition, partitionCount } from "../partitions/objects";
import { deletePartitionedGroup, getPartitionedGroup, putPartitionedGroup, seekPartitionedGroup } from "../partitions/groups-config";
import { fetchPartitioned } from "../partitions/groups-fetch";
import { ackOnPartitions, deadLetterOnPartitions, extendOnPartitions, nackOnPartitions, type SettleTargets, splitByPartition } from "../partitions/groups-settle";
import { subscribePartitioned } from "../partitions/groups-socket";

const epochOf = (epoch: number | undefined) => (epoch === undefined ? {} : { epoch });

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

export const groups = new Hono<AppBindings>()
  .post("/:group/fetch", stationAccess(Action.Consume), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    const request = await readJson(c, FetchRequestSchema, { maxBytes: MAX_REQUEST_BYTES, allowEmpty: true });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) {
      const json = unwrap(await fetchPartitioned(c.env, station, group, partitions, request, (work) => c.executionCtx.waitUntil(work)));
      return c.body(json, 200, JSON_TYPE);
    }
    const ack = unwrap(ownOffsets({ messages: request.ack.map((a) => (typeof a === "number" ? { partition: 0, offset: a, ...epochOf(request.ackEpoch) } : a)) }, 0));
    const answer = unwrap(await stationStub(c.env, station).groupFetch(group, request.consumer, request.max, request.waitMs, ack.offsets, ack.epoch));
    // The object wrote the JSON from the stored text; passing it on untouched saves a parse.
    return c.body(answer.json, 200, JSON_TYPE);
  })
  .post("/:group/ack", stationAccess(Action.Consume), async (c) => {
    const group = c.req.param("group");
    const request = await readJson(c, AckRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(await settle(c, request, (split) => ackOnPartitions(c.env, c.var.station, group, split), (stub, own) => stub.groupAck(group, own.offsets, own.epoch)));
  })
  .post("/:group/nack", stationAccess(Action.Consume), async (c) => {
    const group = c.req.param("group");
    const request = await readJson(c, NackRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(
      await settle(c, request, (split) => nackOnPartitions(c.env, c.var.station, group, split, request.delayMs), (stub, own) => stub.groupNack(group, own.offsets, request.delayMs, own.epoch)),
    );
  })
  .post("/:group/extend", stationAccess(Action.Consume), async (c) => {
    const group = c.req.param("group");
    const request = await readJson(c, ExtendRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(
      await settle(c, request, (split) => extendOnPartitions(c.env, c.var.station, group, split, request.consumer), (stub, own) => stub.groupExtend(group, request.consumer, own.offsets, own.epoch)),
    );
  })
  .post("/:group/dead-letter", stationAccess(Action.Consume), async (c) => {
    const group = c.req.param("group");
    const request = await readJson(c, DeadLetterRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    return c.json(
      await settle(c, request, (split) => deadLetterOnPartitions(c.env, c.var.station, group, split, request.reason), (stub, own) => stub.groupDeadLetter(group, own.offsets, request.reason, own.epoch)),
    );
  })
  // Moving a group is the consumer's own business (replaying what it processed): the consume
  // right on the group suffices; the manage right (the dashboard's) reaches it as well.
  .post("/:group/seek", stationAccess(Action.Consume, Action.Manage), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    const request = await readJson(c, SeekRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await seekPartitionedGroup(c.env, station, group, request.to, partitions)));
    if (typeof request.to === "object" && "offset" in request.to) unwrap(checkPartition(request.to.partition ?? 0, partitions));
    return c.json(unwrap(await stationStub(c.env, station).groupSeek(group, request.to)));
  })
  .get("/:group/subscribe", stationAccess(Action.Consume), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      throw new ApiError(ErrorCode.InvalidRequest, "Subscribe is a WebSocket: send Upgrade: websocket");
    }
    const query = unwrapValidation(SubscribeQuerySchema, c.req.query());
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) {
      return subscribePartitioned(c.env, { station, group, partitions, consumer: query.consumer, credit: query.credit }, await socketCredentialOf(c.get("principal"), c.env), c.req.header("sec-websocket-protocol"));
    }
    const res = await stationStub(c.env, station).fetch(subscribeRequest(c.req.raw, { group, consumer: query.consumer, credit: query.credit }, await socketCredentialOf(c.get("principal"), c.env)));
    // A fresh Response: the object's has immutable headers, and later middleware sets some.
    // A browser that sent its token as a subprotocol needs ours selected, or it drops the socket.
    if (res.webSocket) {
      const selected = offersWebSocketProtocol(c.req.header("sec-websocket-protocol")) ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : undefined;
      return new Response(null, { status: 101, webSocket: res.webSocket, headers: selected });
    }
    return new Response(res.body, { status: res.status, headers: JSON_TYPE });
  })
  .put("/:group", stationAccess(Action.Manage), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    const config = await readJson(c, GroupConfigSchema, { maxBytes: MAX_REQUEST_BYTES, allowEmpty: true });
    const partitions = unwrap(await partitionCount(c.env, station));
    const put = partitions > 1 ? putPartitionedGroup(c.env, station, group, config, partitions) : stationStub(c.env, station).putGroup(group, config);
    const { created, info } = unwrap(await put);
    return c.json(info, created ? 201 : 200);
  })
  .get("/:group", stationAccess(Action.Manage), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await getPartitionedGroup(c.env, station, group, partitions)));
    return c.json(unwrap(await stationStub(c.env, station).getGroup(group)));
  })
  .delete("/:group", stationAccess(Action.Manage), async (c) => {
    const { station } = c.var;
    const group = c.req.param("group");
    const partitions = unwrap(await partitionCount(c.env, station));
    const deleted = partitions > 1 ? deletePartitionedGroup(c.env, station, group, partitions) : stationStub(c.env, station).deleteGroup(group);
    return c.json({ name: group, ...unwrap(await deleted) });
  });

type Answer<T> = { ok: true; value: T } | { ok: false; error: WireError };

/** A settle (ack, nack, extend, dead-letter): split over the partitions when the station has
 *  several, else the one call to the station's object with the offsets of partition 0. */
async function settle<T>(
  c: Context<AppBindings>,
  request: SettleTargets,
  onPartitions: (split: Map<number, OwnOffsets>) => Promise<Answer<T>>,
  onStation: (stub: ReturnType<typeof stationStub>, own: OwnOffsets) => Promise<Answer<T>>,
): Promise<T> {
  const partitions = unwrap(await partitionCount(c.env, c.var.station));
  if (partitions > 1) return unwrap(await onPartitions(unwrap(splitByPartition(request, partitions))));
  return unwrap(await onStation(stationStub(c.env, c.var.station), unwrap(ownOffsets(request, 0))));
}
