// Live doc sockets of a doc station (hibernation API, attachment kind "doc"): each produced
// batch is pushed to every socket as one merged update, and awareness frames are relayed to
// the other sockets, kept in memory only (lost on hibernation; clients renew them).
import * as Y from "yjs";
import { encodeBinaryBody } from "../../shared/binary";
import {
  type AwarenessState,
  DocClientFrameSchema,
  type DocServerFrame,
  MAX_AWARENESS_STATES,
  MAX_DOC_CLIENT_FRAME_BYTES,
  MAX_DOC_PUSH_BYTES,
} from "../../shared/doc-socket";
import { ErrorCode, wireError } from "../../shared/errors";
import { validate } from "../../shared/validate";
import { offersWebSocketProtocol, WEBSOCKET_PROTOCOL } from "../../shared/websocket-auth";
import { jsonError } from "../http/error-response";
import { isDocStation } from "./doc-compaction";
import { updatesOf } from "./doc-updates";
import type { StationRecord } from "./station-record";

const TAG = "doc";

/** What a doc socket carries through hibernation: the awareness clients it spoke for (to retire them on close). */
interface DocSocketAttachment {
  kind: "doc";
  clients: Record<string, number>;
}

export class DocSockets {
  /** The latest awareness per clientID, to greet newcomers. Memory only: never stored. */
  private readonly awareness = new Map<number, AwarenessState>();

  constructor(private readonly ctx: DurableObjectState) {}

  /** A request the Worker forwarded: a doc subscribe upgrade (`…/doc/subscribe`), or null if not ours. */
  handleRequest(request: Request, record: StationRecord | null): Response | null {
    if (!new URL(request.url).pathname.endsWith("/doc/subscribe")) return null;
    if (!record) return jsonError(wireError(ErrorCode.StationNotFound, "No such station: create it with PUT /v1/stations/{station}"));
    if (!isDocStation(record)) return jsonError(wireError(ErrorCode.NotADoc, `Station ${record.name} is not a doc station (kind: "doc")`));
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(wireError(ErrorCode.InvalidRequest, "Doc subscribe is a WebSocket: send Upgrade: websocket"));
    }
    return this.accept(request.headers.get("sec-websocket-protocol"), record.lastOffset);
  }

  /** Accepts a socket (hibernatable), greets it with the log's offset and the known awareness. */
  private accept(protocolHeader: string | null, offset: number): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, [TAG]);
    const attachment: DocSocketAttachment = { kind: "doc", clients: {} };
    server.serializeAttachment(attachment);
    send(server, { type: "hello", offset });
    const states = [...this.awareness.values()].filter((s) => s.state !== null);
    if (states.length > 0) send(server, { type: "awareness", states });
    const headers: Record<string, string> = offersWebSocketProtocol(protocolHeader) ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** Pushes the updates at offsets `from`…`to` (just committed) to every doc socket. */
  publish(sql: SqlStorage, from: number, to: number): void {
    const sockets = this.sockets();
    if (sockets.length === 0 || to < from) return;
    const rows = sql.exec<{ body: string }>("SELECT body FROM messages WHERE msg_offset BETWEEN ? AND ? ORDER BY msg_offset", from, to).toArray();
    const updates = updatesOf(rows);
    if (updates.length === 0) return;
    const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    const frame: DocServerFrame =
      update.byteLength > MAX_DOC_PUSH_BYTES ? { type: "stale", offset: to } : { type: "update", update: encodeBinaryBody(update), from, offset: to };
    const text = JSON.stringify(frame);
    for (const socket of sockets) trySend(socket, text);
  }

  /** A frame from a socket; false if the socket is not a doc socket (another part owns it). */
  onMessage(socket: WebSocket, data: string | ArrayBuffer): boolean {
    const attachment = attachmentOf(socket);
    if (!attachment) return false;
    if (typeof data !== "string" || data.length > MAX_DOC_CLIENT_FRAME_BYTES) {
      send(socket, { type: "error", error: wireError(ErrorCode.InvalidRequest, `Send JSON text frames of at most ${MAX_DOC_CLIENT_FRAME_BYTES} bytes`) });
      return true;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      send(socket, { type: "error", error: wireError(ErrorCode.InvalidJson, "The frame is not valid JSON") });
      return true;
    }
    const frame = validate(DocClientFrameSchema, parsed);
    if (!frame.ok) {
      send(socket, { type: "error", error: frame.error });
      return true;
    }
    const states = frame.value.states as AwarenessState[];
    for (const state of states) {
      attachment.clients[String(state.clientID)] = state.clock;
      // Bounded: an attachment holds at most 2 KB. A client speaks for itself (and a few tabs).
      const ids = Object.keys(attachment.clients);
      if (ids.length > MAX_AWARENESS_STATES) delete attachment.clients[ids[0]!];
      if (state.state === null) this.awareness.delete(state.clientID);
      else this.awareness.set(state.clientID, state);
    }
    socket.serializeAttachment(attachment);
    this.relay(socket, states);
    return true;
  }

  /** A socket closed: its awareness clients are gone for the others. False if not a doc socket. */
  onClose(socket: WebSocket): boolean {
    const attachment = attachmentOf(socket);
    if (!attachment) return false;
    const gone: AwarenessState[] = Object.entries(attachment.clients).map(([id, clock]) => ({ clientID: Number(id), clock: clock + 1, state: null }));
    for (const state of gone) this.awareness.delete(state.clientID);
    if (gone.length > 0) this.relay(socket, gone);
    return true;
  }

  /** The station is deleted or stopped being a doc: close every doc socket. */
  closeAll(reason: string): void {
    for (const socket of this.sockets()) {
      try {
        socket.close(1001, reason);
      } catch {
        // already closing
      }
    }
    this.awareness.clear();
  }

  private relay(from: WebSocket, states: AwarenessState[]): void {
    const text = JSON.stringify({ type: "awareness", states } satisfies DocServerFrame);
    for (const socket of this.sockets()) if (socket !== from) trySend(socket, text);
  }

  private sockets(): WebSocket[] {
    return this.ctx.getWebSockets(TAG).filter((socket) => socket.readyState === WebSocket.OPEN);
  }
}

function attachmentOf(socket: WebSocket): DocSocketAttachment | null {
  const attachment = socket.deserializeAttachment() as Partial<DocSocketAttachment> | null;
  return attachment?.kind === "doc" ? (attachment as DocSocketAttachment) : null;
}

function send(socket: WebSocket, frame: DocServerFrame): void {
  trySend(socket, JSON.stringify(frame));
}

/** A socket closing under us is not an error: the client catches up over HTTP when it reconnects. */
function trySend(socket: WebSocket, text: string): void {
  try {
    socket.send(text);
  } catch {
    // closed meanwhile
  }
}
