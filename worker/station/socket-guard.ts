// Keeps every open socket of a station (group subscribers and doc sockets) within its token:
// a frame is obeyed only while the token that opened the socket holds (exp, key rotation) and
// within the token's and the station's rates; pushes stop and the socket closes as soon as it
// does not hold; the alarm closes sockets whose token expired while they were quiet.
import { ErrorCode, type Result, type WireError, wireError } from "../../shared/errors";
import type { Rates } from "../../shared/rate-limits";
import { SocketCloseCode } from "../../shared/websocket-auth";
import { checkSocketCredential, type SocketCredential } from "../auth/socket-credential";
import { FrameLimiter } from "../limits/frame-limiter";
import { retryAfterSeconds } from "../limits/rate-gate";
import type { StationContext, StationFeature } from "./feature";
import type { ScheduledTask } from "./scheduler";

/** A frame's own extra limit (awareness), on top of the token's and the station's. */
export interface FrameRate {
  rates: Rates;
  /** What to call the frames in the refusal ("awareness frames"). */
  what: string;
}

/** What to do with a frame: obey it, drop it (the sender was told why), or nothing more (the socket is closed). */
export type FrameVerdict = "obey" | "refused" | "closed";

export class SocketGuard implements StationFeature {
  private readonly limiter = new FrameLimiter();
  /** Sockets this guard closed: frames the runtime still delivers from them are never obeyed. */
  private readonly closed = new WeakSet<WebSocket>();

  constructor(
    private readonly host: StationContext,
    /** The station's own rate, shared with its HTTP requests (worker/station/log/admission.ts). */
    private readonly admitStation: (bytes: number, nowMs: number) => Result<void>,
  ) {}

  readonly tasks: readonly ScheduledTask[] = [this.expiryTask()];

  /** Why an upgrade must be refused (401): its credential is missing or no longer holds; null if it holds. */
  async refuseUpgrade(credential: SocketCredential | null): Promise<WireError | null> {
    const verdict = await checkSocketCredential(credential, this.host.env, Date.now());
    if (verdict.ok) return null;
    const reason = verdict.code === SocketCloseCode.TokenExpired ? "token_expired" : "token_revoked";
    return wireError(ErrorCode.Unauthorized, `The token cannot open a socket: ${verdict.reason}`, { reason });
  }

  /** A socket was just accepted: the alarm must come round by its token's expiry. */
  async watch(credential: SocketCredential): Promise<void> {
    if (credential.exp !== null) await this.host.wakeBy(credential.exp);
  }

  /** Whether the socket's token still holds; if not, the socket is closed (4001 / 4003). */
  async holds(socket: WebSocket, nowMs = Date.now()): Promise<boolean> {
    if (this.closed.has(socket)) return false;
    const verdict = await checkSocketCredential(credentialOf(socket), this.host.env, nowMs);
    if (verdict.ok) return true;
    this.close(socket, verdict.code, verdict.reason);
    return false;
  }

  /**
   * Whether to obey a frame of `bytes` on `socket`: its token holds, and the frame is within
   * the token's rate, the station's and `own` (if given). A refused frame is answered with a
   * `rate_limited` error (carrying `ref`); an abusive socket is closed with 1008 instead.
   */
  async admitFrame(socket: WebSocket, bytes: number, ref: string | undefined, own?: FrameRate): Promise<FrameVerdict> {
    const now = Date.now();
    if (!(await this.holds(socket, now))) return "closed";
    const credential = credentialOf(socket)!;
    const refusal = this.rateRefusal(socket, credential, bytes, now, own);
    if (refusal === null) return "obey";
    return this.refuseFrame(socket, refusal, ref);
  }

  /** Answers a frame refused for its rate, or closes the socket with 1008 once it is abusive. */
  refuseFrame(socket: WebSocket, refusal: WireError, ref?: string): Exclude<FrameVerdict, "obey"> {
    if (this.limiter.strike(socket, Date.now())) {
      this.close(socket, SocketCloseCode.PolicyViolation, "frames over the rate after being told to wait");
      return "closed";
    }
    sendRaw(socket, JSON.stringify(ref === undefined ? { type: "error", error: refusal } : { type: "error", error: refusal, ref }));
    return "refused";
  }

  /** The alarm task: closes sockets whose token expired or whose key was rotated. */
  private expiryTask(): ScheduledTask {
    return {
      name: "socket-expiry",
      dueAt: () => {
        let earliest: number | null = null;
        for (const socket of this.openSockets()) {
          const exp = credentialOf(socket)?.exp ?? null;
          if (exp !== null && (earliest === null || exp < earliest)) earliest = exp;
        }
        return earliest;
      },
      run: async (now) => {
        for (const socket of this.openSockets()) await this.holds(socket, now);
      },
    };
  }

  private rateRefusal(socket: WebSocket, credential: SocketCredential, bytes: number, now: number, own: FrameRate | undefined) {
    if (own) {
      const waitMs = this.limiter.admitSocket(socket, own.rates, bytes, now);
      if (waitMs > 0) return refusal("socket", waitMs, `These ${own.what} are over their rate`);
    }
    if (credential.rates) {
      const waitMs = this.limiter.admitSubject(credential.sub, credential.rates, bytes, now);
      if (waitMs > 0) return refusal("token", waitMs, "This token is over its rate");
    }
    const station = this.admitStation(bytes, now);
    return station.ok ? null : station.error;
  }

  private close(socket: WebSocket, code: number, reason: string): void {
    this.closed.add(socket);
    try {
      socket.close(code, reason);
    } catch {
      // already closing
    }
  }

  private openSockets(): WebSocket[] {
    return this.host.ctx.getWebSockets().filter((socket) => socket.readyState === WebSocket.OPEN && !this.closed.has(socket));
  }
}

/** The credential kept in a socket's attachment (group and doc attachments both carry one). */
export function credentialOf(socket: WebSocket): SocketCredential | null {
  const attachment = socket.deserializeAttachment() as { credential?: SocketCredential } | null;
  return attachment?.credential ?? null;
}

export function refusal(scope: "token" | "station" | "socket", waitMs: number, what: string) {
  const seconds = retryAfterSeconds(waitMs);
  return wireError(ErrorCode.RateLimited, `${what}: this frame was not obeyed; wait ${seconds} s`, { scope, retryAfterSeconds: seconds });
}

function sendRaw(socket: WebSocket, text: string): void {
  try {
    socket.send(text);
  } catch {
    // closed meanwhile
  }
}
