// Keeps a subscribe socket the Worker holds (a partitioned station's) within its token, as
// worker/station/socket-guard.ts does for the sockets a Station object holds: a frame is obeyed
// only while the token holds (exp to the millisecond, key not rotated) and within the token's
// rate; the socket closes with 4001 / 4003 when the token stops holding (at its expiry even
// when quiet), and with 1008 once it keeps sending over its rate after being told to wait.
// The station's own rate is applied by the station's objects to each call the frames make.
import type { WireError } from "../../shared/errors";
import { SocketCloseCode } from "../../shared/websocket-auth";
import { checkSocketCredential, type SocketCredential } from "../auth/socket-credential";
import type { EnvVars } from "../env-vars";
import { FrameLimiter } from "../limits/frame-limiter";
import { refusal } from "../station/socket-guard";
import { sendError } from "../station/groups";
import type { FrameVerdict } from "../station/socket-guard";

/** One per isolate: a subject's sockets on this isolate share its rate, as its requests do. */
const limiter = new FrameLimiter();

export class WorkerSocketGuard {
  private closed = false;
  private expiry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly env: EnvVars,
    private readonly socket: WebSocket,
    private readonly credential: SocketCredential,
    /** Told once the guard closed the socket. */
    private readonly onClose: () => void,
  ) {}

  /** Why an upgrade must be refused (401), or null if the token holds. */
  static async refuseUpgrade(credential: SocketCredential, env: EnvVars): Promise<{ reason: string; message: string } | null> {
    const verdict = await checkSocketCredential(credential, env, Date.now());
    if (verdict.ok) return null;
    return { reason: verdict.code === SocketCloseCode.TokenExpired ? "token_expired" : "token_revoked", message: `The token cannot open a socket: ${verdict.reason}` };
  }

  /** Closes the socket when the token expires, even if nothing happens on it before. */
  watchExpiry(): void {
    if (this.credential.exp === null) return;
    // One ms past exp: the check is `now >= exp`, and timers may fire a little early.
    this.expiry = setTimeout(() => void this.holds(), Math.max(0, this.credential.exp - Date.now() + 1));
  }

  /** Whether the token still holds; if not, the socket is closed (4001 / 4003). */
  async holds(nowMs = Date.now()): Promise<boolean> {
    if (this.closed) return false;
    const verdict = await checkSocketCredential(this.credential, this.env, nowMs);
    if (verdict.ok) return true;
    this.close(verdict.code, verdict.reason);
    return false;
  }

  /** Whether to obey a frame of `bytes`: the token holds and the frame is within its rate. */
  async admitFrame(bytes: number, ref: string | undefined): Promise<FrameVerdict> {
    const now = Date.now();
    if (!(await this.holds(now))) return "closed";
    if (!this.credential.rates) return "obey";
    const waitMs = limiter.admitSubject(this.credential.sub, this.credential.rates, bytes, now);
    if (waitMs === 0) return "obey";
    return this.refuse(refusal("token", waitMs, "This token is over its rate"), ref);
  }

  /** The socket went away (or was closed here): no timer outlives it. */
  stop(): void {
    this.closed = true;
    if (this.expiry !== null) clearTimeout(this.expiry);
    this.expiry = null;
  }

  private refuse(error: WireError, ref: string | undefined): Exclude<FrameVerdict, "obey"> {
    if (limiter.strike(this.socket, Date.now())) {
      this.close(SocketCloseCode.PolicyViolation, "frames over the rate after being told to wait");
      return "closed";
    }
    sendError(this.socket, error, ref);
    return "refused";
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.stop();
    try {
      this.socket.close(code, reason);
    } catch {
      // already closing
    }
    this.onClose();
  }
}
