// WebSocket subscribers of a group, on the hibernation API: the runtime holds the sockets while
// the object sleeps, and each socket's attachment (group, consumer, unspent credit) survives
// it. This file owns accepting, the attachment and frame encoding; the service decides what
// to push. Leases of a dropped socket are not released: they run out and redeliver.
import { MAX_SUBSCRIBE_CREDIT } from "../../../shared/limits";
import { type ClientFrame, ClientFrameSchema, MAX_GROUP_CLIENT_FRAME_BYTES, type ServerFrame } from "../../../shared/groups";
import { ErrorCode, type Result, type WireError, wireError } from "../../../shared/errors";
import { validate } from "../../../shared/validate";
import type { SocketCredential } from "../../auth/socket-credential";

/** What a subscriber's socket carries through hibernation. */
export interface SubscriberAttachment {
  kind: "group";
  group: string;
  consumer: string;
  /** Messages the client still lets us push. */
  credit: number;
  /** The token that opened the socket: checked on every frame and push (worker/station/socket-guard.ts). */
  credential: SocketCredential;
}

const TAG_PREFIX = "group:";

/** Accepts a subscriber's socket (hibernatable) and greets it; returns the 101 response. */
export function acceptSubscriber(
  ctx: DurableObjectState,
  group: string,
  consumer: string,
  credit: number,
  credential: SocketCredential,
): { response: Response; socket: WebSocket } {
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  ctx.acceptWebSocket(server, [TAG_PREFIX + group]);
  const attachment: SubscriberAttachment = { kind: "group", group, consumer, credit: Math.min(credit, MAX_SUBSCRIBE_CREDIT), credential };
  server.serializeAttachment(attachment);
  sendFrame(server, { type: "subscribed", group, consumer, credit: attachment.credit });
  return { response: new Response(null, { status: 101, webSocket: client }), socket: server };
}

/** The subscriber attachment of a socket, or null if the socket is not a group subscriber. */
export function subscriberOf(socket: WebSocket): SubscriberAttachment | null {
  const attachment = socket.deserializeAttachment() as Partial<SubscriberAttachment> | null;
  return attachment && attachment.kind === "group" ? (attachment as SubscriberAttachment) : null;
}

export function saveSubscriber(socket: WebSocket, attachment: SubscriberAttachment): void {
  socket.serializeAttachment(attachment);
}

/** Open subscriber sockets of one group, or of all groups. */
export function subscribers(ctx: DurableObjectState, group?: string): WebSocket[] {
  const sockets = group === undefined ? ctx.getWebSockets() : ctx.getWebSockets(TAG_PREFIX + group);
  return sockets.filter((socket) => socket.readyState === WebSocket.OPEN && subscriberOf(socket) !== null);
}

/** Adds credit, capped: a client may ask for more than it could ever hold. */
export function grantCredit(attachment: SubscriberAttachment, n: number): void {
  attachment.credit = Math.min(attachment.credit + n, MAX_SUBSCRIBE_CREDIT);
}

/** Parses and validates a client frame; an error frame's payload if it does not fit. */
export function parseFrame(data: string | ArrayBuffer): Result<ClientFrame> {
  if (typeof data !== "string") return { ok: false, error: wireError(ErrorCode.InvalidRequest, "Send frames as JSON text") };
  if (data.length > MAX_GROUP_CLIENT_FRAME_BYTES) {
    return { ok: false, error: wireError(ErrorCode.PayloadTooLarge, `A frame holds at most ${MAX_GROUP_CLIENT_FRAME_BYTES} bytes`, { maxBytes: MAX_GROUP_CLIENT_FRAME_BYTES }) };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { ok: false, error: wireError(ErrorCode.InvalidJson, "The frame is not valid JSON") };
  }
  return validate(ClientFrameSchema, parsed);
}

export function sendFrame(socket: WebSocket, frame: ServerFrame): void {
  trySend(socket, JSON.stringify(frame));
}

/** A `messages` frame from wire JSON texts, without re-encoding them. */
export function sendMessages(socket: WebSocket, messages: readonly string[], credit: number): void {
  trySend(socket, `{"type":"messages","messages":[${messages.join(",")}],"credit":${credit}}`);
}

export function sendError(socket: WebSocket, error: WireError, ref?: string): void {
  sendFrame(socket, ref === undefined ? { type: "error", error } : { type: "error", error, ref });
}

/** A socket closing under us is not an error: its leases run out and redeliver. */
function trySend(socket: WebSocket, text: string): void {
  try {
    socket.send(text);
  } catch {
    // closed meanwhile
  }
}
