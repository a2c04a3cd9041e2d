// `GET …/groups/{group}/subscribe` on a partitioned station: the Worker accepts the client's
// socket itself and serves it across every partition. One credit for all partitions: the
// client's credit bounds what it is pushed in total. Messages are leased as a fetch leases them
// (groups-lease.ts), and with nothing to hand out the socket waits on every partition without
// leasing (groups-wait.ts). Client frames are routed to the partitions they name and answered
// with the frames an unpartitioned station's socket answers with. The socket is held by the
// Worker for its whole life (no hibernation); an unpartitioned station's stays with its object.
// Leases pushed to a socket that goes away are not given back: they run out and redeliver.
import { ErrorCode, type Result, type WireError, wireError } from "../../shared/errors";
import type { ClientFrame } from "../../shared/groups";
import { MAX_FETCH_MESSAGES, MAX_PUSH_FRAME_BYTES, MAX_SUBSCRIBE_CREDIT, MAX_WAIT_MS } from "../../shared/limits";
import { offersWebSocketProtocol, WEBSOCKET_PROTOCOL } from "../../shared/websocket-auth";
import type { SocketCredential } from "../auth/socket-credential";
import type { Env } from "../env";
import { jsonError } from "../http/error-response";
import { parseFrame, sendError, sendFrame, sendMessages } from "../station/groups";
import { leaseFairly } from "./groups-lease";
import { ackOnPartitions, deadLetterOnPartitions, extendOnPartitions, nackOnPartitions, splitByPartition } from "./groups-settle";
import { WorkerSocketGuard } from "./groups-socket-guard";
import { waitForMessages } from "./groups-wait";
import { partitionCount, partitionStub } from "./objects";

export interface PartitionedSubscribe {
  station: string;
  group: string;
  partitions: number;
  consumer: string;
  credit: number;
}

/** Pause before leasing again after a partition refused (rate, overload). */
const RETRY_PAUSE_MS = 1_000;

/** Checks the token and the group, then answers the upgrade (101) and serves the socket. */
export async function subscribePartitioned(env: Env, target: PartitionedSubscribe, credential: SocketCredential, offeredProtocols: string | undefined): Promise<Response> {
  const refused = await WorkerSocketGuard.refuseUpgrade(credential, env);
  if (refused) return jsonError(wireError(ErrorCode.Unauthorized, refused.message, { reason: refused.reason }));
  // A subscribe never creates a group (that takes PUT, the manage right): partition 0 holds its record.
  const group = await (partitionStub(env, target.station, 0).getGroup(target.group) as Promise<Result<unknown>>);
  if (!group.ok) return jsonError(group.error);
  const pair = new WebSocketPair();
  const client = pair[0];
  const server = pair[1];
  server.accept();
  new PartitionedSubscriber(env, target, credential, server).start();
  const selected = offersWebSocketProtocol(offeredProtocols) ? { "sec-websocket-protocol": WEBSOCKET_PROTOCOL } : undefined;
  return new Response(null, { status: 101, webSocket: client, headers: selected });
}

class PartitionedSubscriber {
  private credit: number;
  private closed = false;
  private readonly gone: Promise<void>;
  private markGone!: () => void;
  /** Wakes the push loop when credit arrives while it has none. */
  private wakePush: (() => void) | null = null;
  private readonly guard: WorkerSocketGuard;
  /** This socket's wait in the objects: each new wait replaces the one before. */
  private readonly waitId = `socket-${crypto.randomUUID()}`;

  constructor(
    private readonly env: Env,
    private readonly target: PartitionedSubscribe,
    credential: SocketCredential,
    private readonly socket: WebSocket,
  ) {
    this.credit = Math.min(target.credit, MAX_SUBSCRIBE_CREDIT);
    this.gone = new Promise((resolve) => (this.markGone = resolve));
    this.guard = new WorkerSocketGuard(env, socket, credential, () => this.stop());
  }

  start(): void {
    const { group, consumer } = this.target;
    sendFrame(this.socket, { type: "subscribed", group, consumer, credit: this.credit });
    this.socket.addEventListener("message", (event) => void this.onMessage(event.data as string | ArrayBuffer));
    this.socket.addEventListener("close", () => this.stop());
    this.socket.addEventListener("error", () => this.stop());
    this.guard.watchExpiry();
    void this.push();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.guard.stop();
    this.markGone();
    this.wakePush?.();
  }

  /** Pushes leased messages while there is credit; waits for messages (or credit) otherwise, until the socket goes. */
  private async push(): Promise<void> {
    while (!this.closed) {
      try {
        if (await this.pushOnce()) return;
      } catch (error) {
        // An object that could not be reached (reset, overloaded): the loop goes on after a pause.
        console.warn(`subscribe ${this.target.station}/${this.target.group}: ${String(error)}`);
        await this.pause(RETRY_PAUSE_MS);
      }
    }
  }

  /** One step of the push loop; true once the loop must end. */
  private async pushOnce(): Promise<boolean> {
    if (this.credit === 0) {
      await new Promise<void>((resolve) => (this.wakePush = resolve));
      this.wakePush = null;
      return false;
    }
    if (!(await this.guard.holds())) return true;
    const partitions = await this.partitions();
    if (partitions === null) return true;
    const max = Math.min(this.credit, MAX_FETCH_MESSAGES);
    const leased = await leaseFairly(this.env, this.target.station, this.target.group, partitions, {
      consumer: this.target.consumer,
      max,
      maxBytes: MAX_PUSH_FRAME_BYTES,
    });
    if (this.closed) return true;
    if (!leased.ok) {
      if (this.endsSocket(leased.error)) return true;
      await this.pause(RETRY_PAUSE_MS);
      return false;
    }
    const { messages } = leased.value;
    if (messages.length > 0) {
      this.credit -= messages.length;
      sendMessages(this.socket, messages, this.credit);
      return false;
    }
    const ready = await waitForMessages(this.env, this.target.station, this.target.group, partitions, MAX_WAIT_MS, { id: this.waitId, abandoned: this.gone });
    return !ready.ok && this.endsSocket(ready.error);
  }

  /** The station's partition count now (it may grow while the socket is open); null once the station is gone. */
  private async partitions(): Promise<number | null> {
    const count = await partitionCount(this.env, this.target.station);
    if (count.ok) return count.value;
    this.endsSocket(count.error);
    return null;
  }

  /** A group or station gone closes the socket, as an unpartitioned station's does. */
  private endsSocket(error: WireError): boolean {
    if (error.code === ErrorCode.GroupNotFound) this.guard.close(1000, "group deleted");
    else if (error.code === ErrorCode.StationNotFound) this.guard.close(1001, "station deleted");
    else return false;
    return true;
  }

  private pause(ms: number): Promise<void> {
    return Promise.race([new Promise<void>((resolve) => setTimeout(resolve, ms)), this.gone]);
  }

  private async onMessage(data: string | ArrayBuffer): Promise<void> {
    if (this.closed) return;
    const frame = parseFrame(data);
    const bytes = typeof data === "string" ? data.length : data.byteLength;
    if ((await this.guard.admitFrame(bytes, frame.ok ? frame.value.ref : undefined)) !== "obey") return;
    if (!frame.ok) return sendError(this.socket, frame.error);
    if (frame.value.type === "credit") {
      this.credit = Math.min(this.credit + frame.value.n, MAX_SUBSCRIBE_CREDIT);
      this.wakePush?.();
      return;
    }
    const { ref } = frame.value;
    const answer = await this.settle(frame.value).catch(
      (): Result<never> => ({ ok: false, error: wireError(ErrorCode.Unavailable, "A partition of the station could not be reached: send the frame again") }),
    );
    if (this.closed) return;
    if (answer.ok) sendFrame(this.socket, ref === undefined ? answer.value : { ...answer.value, ref });
    else sendError(this.socket, answer.error, ref);
  }

  /** An ack, nack, extend or dead-letter frame, routed to the partitions it names. */
  private async settle(frame: Exclude<ClientFrame, { type: "credit" }>) {
    const partitions = await partitionCount(this.env, this.target.station);
    if (!partitions.ok) return partitions;
    const split = splitByPartition(frame, partitions.value);
    if (!split.ok) return split;
    const { env } = this;
    const { station, group, consumer } = this.target;
    switch (frame.type) {
      case "ack":
        return framed(await ackOnPartitions(env, station, group, split.value), (v) => ({ type: "acked" as const, ...v }));
      case "nack":
        return framed(await nackOnPartitions(env, station, group, split.value, frame.delayMs), (v) => ({ type: "nacked" as const, ...v }));
      case "extend":
        return framed(await extendOnPartitions(env, station, group, split.value, consumer), (v) => ({ type: "extended" as const, ...v }));
      case "dead-letter":
        return framed(await deadLetterOnPartitions(env, station, group, split.value, frame.reason), (v) => ({ type: "dead-lettered" as const, ...v }));
    }
  }
}

function framed<T, F>(result: Result<T>, frame: (value: T) => F): Result<F> {
  return result.ok ? { ok: true, value: frame(result.value) } : result;
}
