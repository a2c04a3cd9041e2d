// Live doc sockets of a doc station (hibernation API, attachment kind "doc"): each produced
// batch is pushed to every socket as one merged update, and awareness frames are relayed to
// the other sockets. Awareness is kept in memory only, keyed by the socket that sent it, bounded
// (per socket, per station, per state) and dropped with its socket or when not renewed in time.
import * as Y from "yjs";
import { encodeBinaryBody } from "../../../shared/binary";
import {
  AWARENESS_BYTES_PER_SECOND,
  AWARENESS_EXPIRE_MS,
  AWARENESS_FRAMES_PER_SECOND,
  AWARENESS_RELAY_BYTES_PER_SECOND,
  type AwarenessState,
  DocClientFrameSchema,
  type DocServerFrame,
  MAX_AWARENESS_STATE_BYTES,
  MAX_AWARENESS_STATES,
  MAX_DOC_CLIENT_FRAME_BYTES,
  MAX_DOC_PUSH_BYTES,
  MAX_STATION_AWARENESS_STATES,
} from "../../../shared/doc-socket";
import { ErrorCode, wireError } from "../../../shared/errors";
import { validate } from "../../../shared/validate";
import { offersWebSocketProtocol, WEBSOCKET_PROTOCOL } from "../../../shared/websocket-auth";
import { type SocketCredential, socketCredentialFrom } from "../../auth/socket-credential";
import { jsonError } from "../../http/error-response";
import { isDocStation } from "./compaction";
import { updatesOf } from "./updates";
import { RateGate } from "../../limits/rate-gate";
import { type FrameRate, refusal, type SocketGuard } from "../socket-guard";
import type { StationContext, StationFeature } from "../feature";

const TAG = "doc";
const AWARENESS_RATE: FrameRate = {
  rates: { requestsPerSecond: AWARENESS_FRAMES_PER_SECOND, bytesPerSecond: AWARENESS_BYTES_PER_SECOND },
  what: "awareness frames",
};
/** A newcomer is greeted with the known awareness in frames of about this many bytes. */
const GREETING_FRAME_BYTES = 256 * 1024;
/** Retired socket ids remembered (a late frame from one is ignored). */
const MAX_RETIRED_IDS = 10_000;
/** Expired states are swept at most this often (each sweep walks every state). */
const SWEEP_INTERVAL_MS = 1000;

/** What a doc socket carries through hibernation: the awareness clients it spoke for (to retire them on close) and its token. */
interface DocSocketAttachment {
  kind: "doc";
  /** Names the socket in the awareness maps (a socket object need not be the same one in every handler). */
  id: string;
  clients: Record<string, number>;
  credential: SocketCredential;
}

interface KeptState {
  state: AwarenessState;
  renewedAt: number;
}

export class DocSockets implements StationFeature {
  /** Awareness by socket id, then clientID: what a socket said goes with it. Memory only: never stored. */
  private readonly awareness = new Map<string, Map<number, KeptState>>();
  /** Which socket (id) speaks for each clientID: one socket cannot overwrite another's client. */
  private readonly owners = new Map<number, string>();
  /** Ids of sockets already retired, so frames still in flight from them change nothing (bounded, oldest first out). */
  private readonly retired = new Set<string>();
  private sweptAt = 0;
  /** Awareness bytes relayed, once per recipient: the fan-out a flood multiplies. */
  private readonly relayBudget = new RateGate({ requestsPerSecond: Number.MAX_SAFE_INTEGER, bytesPerSecond: AWARENESS_RELAY_BYTES_PER_SECOND }, Date.now());

  constructor(
    private readonly host: StationContext,
    private readonly guard: SocketGuard,
  ) {}

  /** A request the Worker forwarded: a doc subscribe upgrade (`…/doc/subscribe`), or null if not ours. */
  async onRequest(request: Request): Promise<Response | null> {
    if (!new URL(request.url).pathname.endsWith("/doc/subscribe")) return null;
    const record = this.host.record();
    if (!record) return jsonError(wireError(ErrorCode.StationNotFound, "No such station: create it with PUT /v1/stations/{station}"));
    if (!isDocStation(record)) return jsonError(wireError(ErrorCode.NotADoc, `Station ${record.name} is not a doc station (kind: "doc")`));
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return jsonError(wireError(ErrorCode.InvalidRequest, "Doc subscribe is a WebSocket: send Upgrade: websocket"));
    }
    const credential = socketCredentialFrom(request);
    const refused = await this.guard.refuseUpgrade(credential);
    if (refused) return jsonError(refused);
    const response = this.accept(request.headers.get("sec-websocket-protocol"), record.lastOffset, credential!);
    await this.guard.watch(credential!);
    return response;
  }

  /** Accepts a socket (hibernatable), greets it with the log's offset and the known awareness. */
  private accept(protocolHeader: string | null, offset: number, credential: SocketCredential): Response {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.host.ctx.acceptWebSocket(server, [TAG]);
    const attachment: DocSocketAttachment = { kind: "doc", id: crypto.randomUUID(), clients: {}, credential };
    server.serializeAttachment(attachment);
    send(server, { type: "hello", offset });
    this.sweep(Date.now(), true);
    // In frames of at most GREETING_FRAME_BYTES: the states of a full station would not fit one.
    let batch: AwarenessState[] = [];
    let bytes = 0;
    for (const state of this.knownStates()) {
      const size = JSON.stringify(state).length;
      if (batch.length > 0 && bytes + size > GREETING_FRAME_BYTES) {
        send(server, { type: "awareness", states: batch });
        batch = [];
        bytes = 0;
      }
      batch.push(state);
      bytes += size;
    }
    if (batch.length > 0) send(server, { type: "awareness", states: batch });
    const headers: Record<string, string> = offersWebSocketProtocol(protocolHeader) ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  /** A doc station's new updates (above `lastBefore`) go to its sockets. */
  afterAppend(lastBefore: number): void {
    const record = this.host.record();
    if (record && isDocStation(record) && record.lastOffset > lastBefore) this.publish(this.host.sql, lastBefore + 1, record.lastOffset);
  }

  /** The station was deleted: every doc socket closes. */
  reset(): void {
    this.closeAll("station deleted");
  }

  /** Pushes the updates at offsets `from`…`to` (just committed) to every doc socket whose token holds. */
  private publish(sql: SqlStorage, from: number, to: number): void {
    const sockets = this.sockets();
    if (sockets.length === 0 || to < from) return;
    // Read now, before any await: nothing trims these offsets meanwhile.
    const rows = sql.exec<{ body: string }>("SELECT body FROM messages WHERE msg_offset BETWEEN ? AND ? ORDER BY msg_offset", from, to).toArray();
    const updates = updatesOf(rows);
    if (updates.length === 0) return;
    const update = updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates);
    const frame: DocServerFrame =
      update.byteLength > MAX_DOC_PUSH_BYTES ? { type: "stale", offset: to } : { type: "update", update: encodeBinaryBody(update), from, offset: to };
    void this.sendToHolding(sockets, JSON.stringify(frame));
  }

  /** A frame from a socket; false if the socket is not a doc socket (another part owns it). */
  async onSocketMessage(socket: WebSocket, data: string | ArrayBuffer): Promise<boolean> {
    const attachment = attachmentOf(socket);
    if (!attachment) return false;
    const bytes = typeof data === "string" ? data.length : data.byteLength;
    if (this.retired.has(attachment.id)) return true;
    const verdict = await this.guard.admitFrame(socket, bytes, undefined, AWARENESS_RATE);
    if (verdict === "closed") this.retire(socket);
    if (verdict !== "obey") return true;
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
    const now = Date.now();
    const relayWaitMs = this.relayBudget.admit(data.length * Math.max(0, this.sockets().length - 1), now);
    if (relayWaitMs > 0) {
      const verdict = this.guard.refuseFrame(socket, refusal("station", relayWaitMs, "This station relays awareness at its rate"));
      if (verdict === "closed") this.retire(socket);
      return true;
    }
    this.sweep(now);
    const { relay, refused } = this.keep(attachment, frame.value.states as AwarenessState[], now);
    socket.serializeAttachment(attachment);
    if (relay.length > 0) void this.relay(socket, relay);
    if (refused.length > 0) {
      send(socket, {
        type: "error",
        error: wireError(ErrorCode.InvalidRequest, `Awareness states not kept: ${refused.map((r) => `${r.clientID} (${r.why})`).join(", ")}`, {
          refused,
        }),
      });
    }
    return true;
  }

  /** A socket closed: its awareness clients are gone for the others. False if not a doc socket. */
  onSocketClose(socket: WebSocket): void {
    if (attachmentOf(socket)) this.retire(socket);
  }

  /** The station is deleted or stopped being a doc: close every doc socket. */
  private closeAll(reason: string): void {
    for (const socket of this.sockets()) {
      try {
        socket.close(1001, reason);
      } catch {
        // already closing
      }
    }
    this.awareness.clear();
    this.owners.clear();
  }

  /** How many awareness states the station holds now (for tests and bounds). */
  get awarenessSize(): number {
    return this.owners.size;
  }

  /** Keeps a frame's states under the bounds; what to relay, and what was refused and why. */
  private keep(attachment: DocSocketAttachment, states: readonly AwarenessState[], now: number) {
    const socket = attachment.id;
    let mine = this.awareness.get(socket);
    if (!mine) {
      mine = new Map();
      this.awareness.set(socket, mine);
    }
    const relay: AwarenessState[] = [];
    const refused: Array<{ clientID: number; why: string }> = [];
    for (const state of states) {
      const id = state.clientID;
      const owner = this.owners.get(id);
      if (owner !== undefined && owner !== socket) {
        refused.push({ clientID: id, why: "another socket speaks for it" });
        continue;
      }
      if (state.state === null) {
        if (mine.delete(id)) this.owners.delete(id);
        delete attachment.clients[String(id)];
        relay.push(state);
        continue;
      }
      if (JSON.stringify(state).length > MAX_AWARENESS_STATE_BYTES) {
        refused.push({ clientID: id, why: `larger than ${MAX_AWARENESS_STATE_BYTES} bytes` });
        continue;
      }
      if (!mine.has(id)) {
        // A socket speaks for a few clients: its oldest makes room (and is gone for the others).
        if (mine.size >= MAX_AWARENESS_STATES) {
          const [oldestId, oldest] = mine.entries().next().value!;
          mine.delete(oldestId);
          this.owners.delete(oldestId);
          delete attachment.clients[String(oldestId)];
          relay.push({ clientID: oldestId, clock: oldest.state.clock + 1, state: null });
        }
        if (this.owners.size >= MAX_STATION_AWARENESS_STATES) {
          refused.push({ clientID: id, why: `the station holds ${MAX_STATION_AWARENESS_STATES} awareness states` });
          continue;
        }
      }
      mine.delete(id); // re-inserted: Map order is renewal order
      mine.set(id, { state, renewedAt: now });
      this.owners.set(id, socket);
      attachment.clients[String(id)] = state.clock;
      relay.push(state);
    }
    return { relay, refused };
  }

  /** Drops a socket's awareness and tells the others its clients are gone (once per socket). */
  private retire(socket: WebSocket): void {
    const attachment = attachmentOf(socket);
    if (!attachment || this.retired.has(attachment.id)) return;
    this.retired.add(attachment.id);
    if (this.retired.size > MAX_RETIRED_IDS) this.retired.delete(this.retired.values().next().value!);
    const mine = this.awareness.get(attachment.id);
    this.awareness.delete(attachment.id);
    const clients = new Map<number, number>();
    for (const [id, clock] of Object.entries(attachment.clients)) clients.set(Number(id), clock);
    for (const [id, kept] of mine ?? []) clients.set(id, kept.state.clock);
    const gone: AwarenessState[] = [];
    for (const [id, clock] of clients) {
      if (this.owners.get(id) === attachment.id || !this.owners.has(id)) {
        this.owners.delete(id);
        gone.push({ clientID: id, clock: clock + 1, state: null });
      }
    }
    if (gone.length > 0) void this.relay(socket, gone);
  }

  /** Drops states not renewed within AWARENESS_EXPIRE_MS (their clients drop them too). */
  private sweep(now: number, force = false): void {
    if (!force && now - this.sweptAt < SWEEP_INTERVAL_MS) return;
    this.sweptAt = now;
    for (const [socket, mine] of this.awareness) {
      for (const [id, kept] of mine) {
        if (now - kept.renewedAt <= AWARENESS_EXPIRE_MS) continue;
        mine.delete(id);
        if (this.owners.get(id) === socket) this.owners.delete(id);
      }
      if (mine.size === 0) this.awareness.delete(socket);
    }
  }

  private knownStates(): AwarenessState[] {
    const states: AwarenessState[] = [];
    for (const mine of this.awareness.values()) for (const kept of mine.values()) states.push(kept.state);
    return states;
  }

  private relay(from: WebSocket, states: AwarenessState[]): Promise<void> {
    const text = JSON.stringify({ type: "awareness", states } satisfies DocServerFrame);
    const fromId = attachmentOf(from)?.id;
    return this.sendToHolding(
      this.sockets().filter((socket) => socket !== from && attachmentOf(socket)?.id !== fromId),
      text,
    );
  }

  /** Sends to each socket whose token still holds; the others are closed (and retired) by the guard. */
  private async sendToHolding(sockets: readonly WebSocket[], text: string): Promise<void> {
    const now = Date.now();
    for (const socket of sockets) {
      if (await this.guard.holds(socket, now)) trySend(socket, text);
      else this.retire(socket);
    }
  }

  private sockets(): WebSocket[] {
    return this.host.ctx.getWebSockets(TAG).filter((socket) => socket.readyState === WebSocket.OPEN);
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
