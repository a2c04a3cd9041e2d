// The rate limits of socket frames, inside a Station object: each frame counts as one request
// of its token's subject (the subject's own rates, as for HTTP, kept per object) and, for frames
// with a rate of their own (awareness), of its socket. A socket that keeps sending once told
// to wait earns strikes; past MAX_FRAME_STRIKES in the window it is abusive (closed with 1008).
import type { Rates } from "../../shared/rate-limits";
import { FRAME_STRIKE_WINDOW_MS, MAX_FRAME_STRIKES } from "../../shared/websocket-auth";
import { RateGate } from "./rate-gate";
import { SubjectLimiter } from "./subject-limiter";

interface Strikes {
  count: number;
  sinceMs: number;
}

export class FrameLimiter {
  private readonly subjects = new SubjectLimiter();
  /** Keyed by the socket object: forgotten with it (and on hibernation, which errs towards letting in). */
  private readonly sockets = new WeakMap<object, RateGate>();
  private readonly strikes = new WeakMap<object, Strikes>();

  /** Admits one frame of `bytes` for `subject` (0), or says how many ms it must wait. */
  admitSubject(subject: string, rates: Rates, bytes: number, nowMs: number): number {
    return this.subjects.admit(subject, rates, bytes, nowMs);
  }

  /** Admits one frame on the socket's own rate (0), or says how many ms it must wait. */
  admitSocket(socket: object, rates: Rates, bytes: number, nowMs: number): number {
    let gate = this.sockets.get(socket);
    if (!gate) {
      gate = new RateGate(rates, nowMs);
      this.sockets.set(socket, gate);
    }
    return gate.admit(bytes, nowMs);
  }

  /** Counts a refused frame; true once the socket is abusive. */
  strike(socket: object, nowMs: number): boolean {
    let strikes = this.strikes.get(socket);
    if (!strikes || nowMs - strikes.sinceMs > FRAME_STRIKE_WINDOW_MS) {
      strikes = { count: 0, sinceMs: nowMs };
      this.strikes.set(socket, strikes);
    }
    strikes.count += 1;
    return strikes.count > MAX_FRAME_STRIKES;
  }
}
