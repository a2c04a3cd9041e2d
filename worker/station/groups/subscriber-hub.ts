// The group WebSocket subscribers of one station: accepting a forwarded subscribe, the frames
// a client sends (credit, ack, nack, extend, dead-letter), and pushing leased messages up to each socket's credit.
// Leases come from the group service; leases are written and the alarm set before any frame
// carrying them goes out. Every frame and push first asks the socket guard: a socket whose
// token expired or was revoked is closed, and frames over the rate are not obeyed.
import { ownOffsets } from "./own-refs";
import { ErrorCode, type Result, wireError } from "../../../shared/errors";
import type { AckResponse, DeadLetterResponse, ExtendResponse, NackResponse } from "../../../shared/groups";
import { MAX_FETCH_MESSAGES, MAX_PUSH_FRAME_BYTES } from "../../../shared/limits";
import { jsonError } from "../../http/error-response";
import type { LeasedBatch } from "./leases";
import {
  acceptSubscriber,
  grantCredit,
  parseFrame,
  saveSubscriber,
  sendError,
  sendFrame,
  sendMessages,
  subscriberOf,
  subscribers,
} from "./sockets";
import { parseSubscribeRequest } from "./subscribe-request";
import type { SocketGuard } from "../socket-guard";

/** What the hub needs from the group service. */
export interface LeaseSource {
  /** Leases up to `max` messages (about `maxBytes`) to a consumer; never creates the group. */
  lease(group: string, consumer: string, max: number, maxBytes: number, now: number): Result<LeasedBatch>;
  /** Checks that the group exists (404 `group_not_found` otherwise: only PUT creates one) and notes the consumer as seen. */
  ensureGroup(group: string, consumer: string): Result<null>;
  ack(group: string, offsets: readonly number[], epoch: number | null): Result<AckResponse>;
  nack(group: string, offsets: readonly number[], delayMs: number, epoch: number | null): Promise<Result<NackResponse>>;
  /** Extends the leases the consumer holds (the socket's consumer, never another's). */
  extend(group: string, consumer: string, offsets: readonly number[], epoch: number | null): Result<ExtendResponse>;
  deadLetter(group: string, offsets: readonly number[], reason: string, epoch: number | null): Result<DeadLetterResponse>;
  wakeBy(at: number): Promise<void>;
  /** This object's partition of the station (frames naming another are refused). */
  partition(): number;
}

export class SubscriberHub {
  constructor(
    private readonly ctx: DurableObjectState,
    private readonly groups: LeaseSource,
    private readonly guard: SocketGuard,
  ) {}

  /** A request the Worker forwarded to the object: a subscribe upgrade, or null if not ours. */
  async handleRequest(request: Request): Promise<Response | null> {
    const target = parseSubscribeRequest(request);
    if (!target) return null;
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(wireError(ErrorCode.InvalidRequest, "Subscribe is a WebSocket: send Upgrade: websocket"));
    }
    const refused = await this.guard.refuseUpgrade(target.credential);
    if (refused) return jsonError(refused);
    const credential = target.credential!;
    const created = this.groups.ensureGroup(target.group, target.consumer);
    if (!created.ok) return jsonError(created.error);
    const { response, socket } = acceptSubscriber(this.ctx, target.group, target.consumer, target.credit, credential);
    await this.guard.watch(credential);
    if (target.credit > 0) await this.push([socket]);
    return response;
  }

  /** A frame from a subscriber; false if the socket is not one (another part owns it). */
  async onMessage(socket: WebSocket, data: string | ArrayBuffer): Promise<boolean> {
    const subscriber = subscriberOf(socket);
    if (!subscriber) return false;
    // Checked before anything is obeyed: the token (exp, key), then the rates; a frame that
    // does not parse counts against the rates too, so garbage cannot flood the object.
    const frame = parseFrame(data);
    const bytes = typeof data === "string" ? data.length : data.byteLength;
    if ((await this.guard.admitFrame(socket, bytes, frame.ok ? frame.value.ref : undefined)) !== "obey") return true;
    if (!frame.ok) {
      sendError(socket, frame.error);
      return true;
    }
    const { ref } = frame.value;
    const withRef = <F extends object>(f: F) => (ref === undefined ? f : { ...f, ref });
    switch (frame.value.type) {
      case "credit":
        grantCredit(subscriber, frame.value.n);
        saveSubscriber(socket, subscriber);
        await this.push([socket]);
        return true;
      case "ack": {
        const own = ownOffsets(frame.value, this.groups.partition());
        if (!own.ok) {
          sendError(socket, own.error, ref);
          return true;
        }
        const result = this.groups.ack(subscriber.group, own.value.offsets, own.value.epoch);
        if (result.ok) sendFrame(socket, withRef({ type: "acked" as const, acked: result.value.acked }));
        else sendError(socket, result.error, ref);
        return true;
      }
      case "nack": {
        const own = ownOffsets(frame.value, this.groups.partition());
        if (!own.ok) {
          sendError(socket, own.error, ref);
          return true;
        }
        const result = await this.groups.nack(subscriber.group, own.value.offsets, frame.value.delayMs, own.value.epoch);
        if (result.ok) sendFrame(socket, withRef({ type: "nacked" as const, nacked: result.value.nacked }));
        else sendError(socket, result.error, ref);
        return true;
      }
      case "extend": {
        const own = ownOffsets(frame.value, this.groups.partition());
        if (!own.ok) {
          sendError(socket, own.error, ref);
          return true;
        }
        const result = this.groups.extend(subscriber.group, subscriber.consumer, own.value.offsets, own.value.epoch);
        if (result.ok) sendFrame(socket, withRef({ type: "extended" as const, ...result.value }));
        else sendError(socket, result.error, ref);
        return true;
      }
      case "dead-letter": {
        const own = ownOffsets(frame.value, this.groups.partition());
        if (!own.ok) {
          sendError(socket, own.error, ref);
          return true;
        }
        const result = this.groups.deadLetter(subscriber.group, own.value.offsets, frame.value.reason, own.value.epoch);
        if (result.ok) sendFrame(socket, withRef({ type: "dead-lettered" as const, deadLettered: result.value.deadLettered }));
        else sendError(socket, result.error, ref);
        return true;
      }
    }
  }

  /** Open subscriber sockets (of one group, or all). */
  open(group?: string): WebSocket[] {
    return subscribers(this.ctx, group);
  }

  /** Pushes to each socket as much as its credit allows, then sends the frames. */
  async push(sockets: readonly WebSocket[]): Promise<void> {
    if (sockets.length === 0) return;
    const now = Date.now();
    const sends: Array<() => void> = [];
    let leaseUntil: number | null = null;
    for (const socket of sockets) {
      // Nothing more for a socket whose token expired or was revoked (it is closed now).
      if (!(await this.guard.holds(socket, now))) continue;
      const subscriber = subscriberOf(socket);
      while (subscriber && subscriber.credit > 0) {
        const max = Math.min(subscriber.credit, MAX_FETCH_MESSAGES);
        const leased = this.groups.lease(subscriber.group, subscriber.consumer, max, MAX_PUSH_FRAME_BYTES, now);
        if (!leased.ok || leased.value.messages.length === 0) break;
        subscriber.credit -= leased.value.messages.length;
        saveSubscriber(socket, subscriber);
        const { messages } = leased.value;
        const credit = subscriber.credit;
        sends.push(() => sendMessages(socket, messages, credit));
        leaseUntil = Math.min(leaseUntil ?? Infinity, leased.value.leaseUntil);
      }
    }
    if (leaseUntil !== null) await this.groups.wakeBy(leaseUntil);
    for (const send of sends) send();
  }

  /** Closes the subscribers of a group (deleted), or all of them (station deleted). */
  close(code: number, reason: string, group?: string): void {
    for (const socket of this.open(group)) socket.close(code, reason);
  }
}
