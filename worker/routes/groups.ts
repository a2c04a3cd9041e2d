// Consumer groups of a station: fetch (long-poll), ack, nack, extend, dead-letter and seek need the consume right, as does
// the WebSocket subscribe; a group's explicit config (PUT/GET/DELETE) needs manage. A grant that
// names `groups` reaches those groups only. A subscribe hands the object the caller's socket
// credential, so the socket lives no longer than its token (worker/station/socket-guard.ts).
// Each route reads the station's partition count (cached): with one partition it makes the one
// call to the station's object it always made; with more it goes through worker/partitions/groups-*.
import { Hono } from "hono";
import { Action } from "../../shared/auth";
import { ErrorCode } from "../../shared/errors";
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
import { requireGroupAccess } from "../auth/require";
import { socketCredentialOf } from "../auth/socket-credential";
import type { AppBindings } from "../env";
import { ApiError, unwrap } from "../http/api-error";
import { groupParam, stationParam } from "../http/params";
import { readJson, unwrapValidation } from "../http/read-json";
import { ownOffsets, subscribeRequest } from "../station/groups";
import { stationStub } from "../stubs";
import { checkPartition, partitionCount } from "../partitions/objects";
import { deletePartitionedGroup, getPartitionedGroup, putPartitionedGroup, seekPartitionedGroup } from "../partitions/groups-config";
import { fetchPartitioned } from "../partitions/groups-fetch";
import { ackOnPartitions, deadLetterOnPartitions, extendOnPartitions, nackOnPartitions, splitByPartition } from "../partitions/groups-settle";
import { subscribePartitioned } from "../partitions/groups-socket";

const epochOf = (epoch: number | undefined) => (epoch === undefined ? {} : { epoch });

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

export const groups = new Hono<AppBindings>()
  .post("/:station/groups/:group/fetch", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
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
  .post("/:station/groups/:group/ack", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
    const request = await readJson(c, AckRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await ackOnPartitions(c.env, station, group, unwrap(splitByPartition(request, partitions)))));
    const own = unwrap(ownOffsets(request, 0));
    return c.json(unwrap(await stationStub(c.env, station).groupAck(group, own.offsets, own.epoch)));
  })
  .post("/:station/groups/:group/nack", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
    const request = await readJson(c, NackRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await nackOnPartitions(c.env, station, group, unwrap(splitByPartition(request, partitions)), request.delayMs)));
    const own = unwrap(ownOffsets(request, 0));
    return c.json(unwrap(await stationStub(c.env, station).groupNack(group, own.offsets, request.delayMs, own.epoch)));
  })
  .post("/:station/groups/:group/extend", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
    const request = await readJson(c, ExtendRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await extendOnPartitions(c.env, station, group, unwrap(splitByPartition(request, partitions)), request.consumer)));
    const own = unwrap(ownOffsets(request, 0));
    return c.json(unwrap(await stationStub(c.env, station).groupExtend(group, request.consumer, own.offsets, own.epoch)));
  })
  .post("/:station/groups/:group/dead-letter", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
    const request = await readJson(c, DeadLetterRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await deadLetterOnPartitions(c.env, station, group, unwrap(splitByPartition(request, partitions)), request.reason)));
    const own = unwrap(ownOffsets(request, 0));
    return c.json(unwrap(await stationStub(c.env, station).groupDeadLetter(group, own.offsets, request.reason, own.epoch)));
  })
  .post("/:station/groups/:group/seek", async (c) => {
    // Moving a group is the consumer's own business (replaying what it processed): the consume
    // right on the group suffices; the manage right (the dashboard's) reaches it as well.
    const station = stationParam(c);
    const group = groupParam(c);
    const principal = c.get("principal");
    const manages = principal.can(Action.Manage, station) && principal.canGroup(Action.Manage, station, group);
    if (!manages) requireGroupAccess(c, Action.Consume, station, group);
    const request = await readJson(c, SeekRequestSchema, { maxBytes: MAX_REQUEST_BYTES });
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await seekPartitionedGroup(c.env, station, group, request.to, partitions)));
    if (typeof request.to === "object" && "offset" in request.to) unwrap(checkPartition(request.to.partition ?? 0, partitions));
    return c.json(unwrap(await stationStub(c.env, station).groupSeek(group, request.to)));
  })
  .get("/:station/groups/:group/subscribe", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Consume, station, group);
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
  .put("/:station/groups/:group", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Manage, station, group);
    const config = await readJson(c, GroupConfigSchema, { maxBytes: MAX_REQUEST_BYTES, allowEmpty: true });
    const partitions = unwrap(await partitionCount(c.env, station));
    const put = partitions > 1 ? putPartitionedGroup(c.env, station, group, config, partitions) : stationStub(c.env, station).putGroup(group, config);
    const { created, info } = unwrap(await put);
    return c.json(info, created ? 201 : 200);
  })
  .get("/:station/groups/:group", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Manage, station, group);
    const partitions = unwrap(await partitionCount(c.env, station));
    if (partitions > 1) return c.json(unwrap(await getPartitionedGroup(c.env, station, group, partitions)));
    return c.json(unwrap(await stationStub(c.env, station).getGroup(group)));
  })
  .delete("/:station/groups/:group", async (c) => {
    const station = stationParam(c);
    const group = groupParam(c);
    requireGroupAccess(c, Action.Manage, station, group);
    const partitions = unwrap(await partitionCount(c.env, station));
    const deleted = partitions > 1 ? deletePartitionedGroup(c.env, station, group, partitions) : stationStub(c.env, station).deleteGroup(group);
    return c.json({ name: group, ...unwrap(await deleted) });
  });
