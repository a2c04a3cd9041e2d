// How a document hears the station: a WebSocket on `…/doc/subscribe` for pushed updates and
// awareness, and a catch-up over HTTP (`POST …/doc` with our state vector) each time the socket
// opens, a push is too large, or (without a socket) every `pollIntervalMs`. Reconnects with
// backoff; every answer is applied as a yjs update, so order and repeats do not matter. Each
// catch-up also hands the station's state vector to the doc, to find what the station lacks.
import * as v from "valibot";
import { decodeBinaryBody, encodeBinaryBody } from "../../shared/binary";
import { AWARENESS_SEND_INTERVAL_MS, type AwarenessState, type DocServerFrame, DocServerFrameSchema } from "../../shared/doc-socket";
import { DocStateSchema } from "../../shared/docs";
import { closeNeedsFreshToken, webSocketProtocols } from "../../shared/websocket-auth";
import { backoffDelayMs } from "../backoff";
import type { WaystationError } from "../errors";
import type { Transport } from "../transport";

export type LinkState = "connecting" | "websocket" | "poll" | "offline" | "closed";

export interface LinkHooks {
  /** Our state vector now, for a catch-up. */
  stateVector(): Uint8Array;
  /** An update from the station; with it, this copy holds every update up to `offset`. */
  remote(update: Uint8Array, offset: number): void;
  /** After a catch-up: the station's state vector, covering every update up to `offset`. */
  stationState(stateVector: Uint8Array, offset: number): void;
  awareness(states: AwarenessState[]): void;
  /** Connected and caught up (true), or lost (false). */
  synced(synced: boolean): void;
  state(state: LinkState): void;
  /** The last catch-up failed with this (null: it worked). */
  error(error: WaystationError | null): void;
}

export interface LinkOptions {
  url: string;
  station: string;
  transport: Transport;
  /** `auto`: WebSocket, polling while it cannot connect; `poll`: HTTP only. */
  mode: "auto" | "poll";
  pollIntervalMs: number;
  webSocket: typeof WebSocket | null;
}

const BACKOFF = { baseMs: 500, maxMs: 15_000 };

export class DocLink {
  private socket: WebSocket | null = null;
  /** Failed catch-ups in a row (offline). */
  private attempt = 0;
  /** Sockets that would not open in a row (the server or a proxy may not take WebSockets). */
  private socketFailures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private catchingUp: Promise<boolean> | null = null;
  private current: LinkState = "connecting";
  private readonly onOnline = () => this.reconnectNow();
  /** The token of a socket the server closed for its expiry or revocation (4001/4003): not to be reused. */
  private staleToken: string | undefined;
  /** Awareness is coalesced to one frame per AWARENESS_SEND_INTERVAL_MS (the station refuses floods). */
  private pendingAwareness: AwarenessState | null = null;
  private awarenessTimer: ReturnType<typeof setTimeout> | undefined;
  private awarenessSentAt = 0;

  constructor(
    private readonly options: LinkOptions,
    private readonly hooks: LinkHooks,
  ) {}

  start(): void {
    globalThis.addEventListener?.("online", this.onOnline);
    void this.connect();
  }

  get state(): LinkState {
    return this.current;
  }

  /** Sends our awareness to the others, if the socket is open (awareness is never queued). */
  sendAwareness(state: AwarenessState): void {
    this.pendingAwareness = state;
    if (this.awarenessTimer !== undefined) return;
    const waitMs = this.awarenessSentAt + AWARENESS_SEND_INTERVAL_MS - Date.now();
    if (waitMs <= 0) this.flushAwareness();
    else this.awarenessTimer = setTimeout(() => this.flushAwareness(), waitMs);
  }

  private flushAwareness(): void {
    this.awarenessTimer = undefined;
    const state = this.pendingAwareness;
    this.pendingAwareness = null;
    if (state === null || this.socket?.readyState !== 1) return;
    this.awarenessSentAt = Date.now();
    this.socket.send(JSON.stringify({ type: "awareness", states: [state] }));
  }

  /** Catches up now (e.g. after the app knows the network is back). */
  reconnectNow(): void {
    if (this.closed) return;
    this.attempt = 0;
    if (this.socket?.readyState === 1) {
      void this.catchUp();
      return;
    }
    clearTimeout(this.timer);
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.awarenessTimer);
    globalThis.removeEventListener?.("online", this.onOnline);
    this.socket?.close(1000, "closed");
    this.socket = null;
    this.setState("closed");
  }

  /** `POST …/doc` with our state vector: applies what we lack. True if the station answered. */
  catchUp(): Promise<boolean> {
    this.catchingUp ??= this.fetchState().finally(() => (this.catchingUp = null));
    return this.catchingUp;
  }

  private async fetchState(): Promise<boolean> {
    const body = JSON.stringify({ stateVector: encodeBinaryBody(this.hooks.stateVector()) });
    const outcome = await this.options.transport.send("POST", `${this.path()}`, body, DocStateSchema);
    if (this.closed) return false;
    this.hooks.error(outcome.ok ? null : outcome.error);
    if (!outcome.ok) return false;
    this.hooks.remote(decodeBinaryBody(outcome.value.update)!, outcome.value.offset);
    this.hooks.stationState(decodeBinaryBody(outcome.value.stateVector)!, outcome.value.offset);
    return true;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const WebSocketClass = this.options.mode === "auto" ? this.options.webSocket : null;
    if (WebSocketClass) {
      const opened = await this.openSocket(WebSocketClass);
      if (opened || this.closed) return;
      this.socketFailures += 1;
    }
    // No socket: catch up over HTTP, then again after the poll interval (or the backoff).
    const answered = await this.catchUp();
    if (this.closed) return;
    if (answered) {
      this.attempt = 0;
      this.setState("poll");
      this.hooks.synced(true);
    } else {
      this.attempt += 1;
      this.setState("offline");
      this.hooks.synced(false);
    }
    // Online without a socket: poll, and try the socket again no later than its backoff says.
    const socketRetryMs = WebSocketClass ? backoffDelayMs(this.socketFailures, BACKOFF, Math.random) : Number.POSITIVE_INFINITY;
    const delayMs = answered ? Math.min(this.options.pollIntervalMs, socketRetryMs) : backoffDelayMs(this.attempt, BACKOFF, Math.random);
    this.timer = setTimeout(() => void this.connect(), delayMs);
  }

  /** Resolves true once the socket opened (it then lives until it closes), false if it could not. */
  private async openSocket(WebSocketClass: typeof WebSocket): Promise<boolean> {
    let token: string;
    try {
      token = await this.options.transport.bearer(this.staleToken);
      this.staleToken = undefined;
    } catch {
      return false;
    }
    if (this.closed) return false;
    const url = `${this.options.url.replace(/^http/, "ws")}${this.path()}/subscribe`;
    let socket: WebSocket;
    try {
      socket = new WebSocketClass(url, webSocketProtocols(token));
    } catch {
      return false;
    }
    return new Promise<boolean>((resolve) => {
      let opened = false;
      socket.onopen = () => {
        opened = true;
        this.socket = socket;
        this.attempt = 0;
        this.socketFailures = 0;
        resolve(true);
        // Opened first, then caught up: anything produced meanwhile is pushed on the socket.
        void this.catchUp().then((answered) => {
          if (this.socket !== socket) return;
          this.setState("websocket");
          this.hooks.synced(answered);
        });
      };
      socket.onmessage = (event) => {
        if (typeof event.data === "string") this.onFrame(event.data);
      };
      socket.onclose = (event) => {
        if (!opened) {
          resolve(false);
          return;
        }
        if (this.socket === socket) this.socket = null;
        if (this.closed) return;
        this.setState("offline");
        this.hooks.synced(false);
        // The token ran out or was revoked: reconnect at once, asking getToken for a fresh one.
        if (closeNeedsFreshToken(event.code)) {
          this.staleToken = token;
          this.timer = setTimeout(() => void this.connect(), 0);
          return;
        }
        this.attempt += 1;
        this.timer = setTimeout(() => void this.connect(), backoffDelayMs(this.attempt, BACKOFF, Math.random));
      };
      socket.onerror = () => {
        // onclose follows and decides
      };
    });
  }

  private onFrame(data: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return;
    }
    // A frame the contract does not describe (a proxy's text, a newer server's kind) is dropped:
    // the socket only speeds things up, and the next catch-up over HTTP covers what it missed.
    const checked = v.safeParse(DocServerFrameSchema, parsed);
    if (!checked.success) return;
    const frame = checked.output as DocServerFrame;
    if (frame.type === "update") {
      const update = decodeBinaryBody(frame.update);
      if (update) this.hooks.remote(update, frame.offset);
    } else if (frame.type === "stale") {
      void this.catchUp();
    } else if (frame.type === "awareness") {
      this.hooks.awareness(frame.states);
    }
  }

  private path(): string {
    return `/v1/stations/${encodeURIComponent(this.options.station)}/doc`;
  }

  private setState(state: LinkState): void {
    if (this.current === state) return;
    this.current = state;
    this.hooks.state(state);
  }
}
