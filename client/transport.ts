// HTTP to the Waystation API: bearer token (getToken bounded by a timeout, asked again once on
// 401), a timeout on every request that grows with the body (a slow upload is not a dead
// server), Retry-After read, and every answer checked against the shared schemas — and, where a
// ruling is at stake, against the station's protocol header, so a proxy's page is never a ruling.
// Returns outcomes as values; it never retries on its own beyond the one 401 refresh.
import * as v from "valibot";
import { type ErrorCode, isErrorBody } from "../shared/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../shared/version";
import { errorFromWire, WaystationError } from "./errors";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WaystationError };

export interface TransportOptions {
  url: string;
  token?: string;
  getToken?: () => string | Promise<string>;
  fetch?: typeof fetch;
  requestTimeoutMs: number;
  /** How long getToken may take before the attempt fails (and is retried with backoff). */
  getTokenTimeoutMs?: number;
}

export interface SendOptions {
  /** Wait this long for the answer's headers (plus the upload allowance), then as long for its body. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Only an answer stamped with the protocol header is the station's: anything else is `bad_response`. */
  requireProtocol?: boolean;
}

/** Longest Retry-After honoured, so a wrong header cannot park the queue for days. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;
/** Longest Retry-After honoured from an answer that is not the station's (no protocol header). */
const MAX_FOREIGN_RETRY_AFTER_MS = 60 * 1000;
/**
 * The slowest upload we still wait for: 16 KiB/s (a poor mobile link). The time to the answer's
 * first byte includes sending the body, so a 1 MiB batch gets 64 s more than an empty request.
 */
const SLOWEST_UPLOAD_BYTES_PER_MS = 16;

export class Transport {
  private token: Promise<string> | undefined;

  constructor(private readonly options: TransportOptions) {}

  /** The token to send; `refresh` asks getToken again unless someone already did since `stale`. */
  async bearer(stale?: string): Promise<string> {
    const { token, getToken } = this.options;
    if (!getToken) return token ?? "";
    if (!this.token || (stale !== undefined && (await this.token.catch(() => undefined)) === stale)) {
      const next = withTimeout(Promise.resolve().then(getToken), this.options.getTokenTimeoutMs ?? this.options.requestTimeoutMs, "getToken");
      this.token = next;
      next.catch(() => {
        // A failed or hung getToken is asked again next time, never awaited forever.
        if (this.token === next) this.token = undefined;
      });
    }
    return this.token;
  }

  async send<S extends v.GenericSchema>(method: string, path: string, body: string | undefined, schema: S, options: SendOptions = {}): Promise<Outcome<v.InferOutput<S>>> {
    let stale: string | undefined;
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        token = await this.bearer(stale);
      } catch (error) {
        return failure(new WaystationError("unauthorized", `getToken failed: ${(error as Error)?.message ?? error}`));
      }
      const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
      const deadline = new Deadline(timeoutMs + Math.ceil((body?.length ?? 0) / SLOWEST_UPLOAD_BYTES_PER_MS), options.signal);
      let res: Response;
      let text: string;
      try {
        const doFetch = this.options.fetch ?? fetch;
        res = await doFetch(this.options.url + path, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            [PROTOCOL_HEADER]: String(PROTOCOL_VERSION),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body,
          signal: deadline.signal,
        });
        // The upload is over once the answer starts: from here the plain timeout bounds the body.
        deadline.restart(timeoutMs);
        text = await res.text();
      } catch (error) {
        if (deadline.expired) return failure(new WaystationError("network_error", `No answer within ${deadline.lastMs} ms`, 0, { timedOut: true }));
        return failure(new WaystationError("network_error", `No response: ${(error as Error)?.message ?? error}`));
      } finally {
        deadline.clear();
      }
      if (res.status === 401 && attempt === 0 && this.options.getToken) {
        stale = token; // once, with a fresh token
        continue;
      }
      return readResponse(res, text, schema, options.requireProtocol === true);
    }
  }
}

function readResponse<S extends v.GenericSchema>(res: Response, text: string, schema: S, requireProtocol: boolean): Outcome<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), Date.now());
  if (requireProtocol && !isStamped(res)) {
    // A proxy, a captive portal, a CDN error page: not the station, whatever it says. Its
    // Retry-After is honoured up to a minute only, so a stale page cannot park the queue for an hour.
    const foreignRetryMs = retryAfterMs === undefined ? undefined : Math.min(retryAfterMs, MAX_FOREIGN_RETRY_AFTER_MS);
    return failure(new WaystationError("bad_response", `HTTP ${res.status} without the ${PROTOCOL_HEADER} header: not the station's answer`, res.status, {}, foreignRetryMs));
  }
  if (res.ok) {
    const parsed = v.safeParse(schema, json);
    if (parsed.success) return { ok: true, value: parsed.output };
    return failure(new WaystationError("bad_response", `Unexpected ${res.status} response`, res.status));
  }
  if (isErrorBody(json)) {
    return failure(errorFromWire(json.error, res.status, retryAfterMs));
  }
  return failure(new WaystationError(codeForStatus(res.status), `HTTP ${res.status}`, res.status, {}, retryAfterMs));
}

/** The station stamps every answer with the protocol it speaks (a positive integer). */
function isStamped(res: Response): boolean {
  return /^[1-9]\d{0,5}$/.test(res.headers.get(PROTOCOL_HEADER)?.trim() ?? "");
}

/**
 * A timeout that can be restarted, tied to an optional outer signal. Built on AbortController and
 * setTimeout alone: AbortSignal.timeout (Safari 16) and AbortSignal.any (Chrome 116, Safari 17.4)
 * are missing in browsers we support.
 */
class Deadline {
  private readonly controller = new AbortController();
  private timer?: ReturnType<typeof setTimeout>;
  expired = false;
  lastMs = 0;
  private readonly onOuterAbort = () => this.controller.abort();

  constructor(
    timeoutMs: number,
    private readonly outer?: AbortSignal,
  ) {
    this.restart(timeoutMs);
    if (outer?.aborted) this.controller.abort();
    else outer?.addEventListener("abort", this.onOuterAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  restart(timeoutMs: number): void {
    clearTimeout(this.timer);
    this.lastMs = timeoutMs;
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort();
    }, timeoutMs);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener("abort", this.onOuterAbort);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (error: unknown) => (clearTimeout(timer), reject(error)),
    );
  });
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now: number): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(0, Math.ceil(ms)), MAX_RETRY_AFTER_MS);
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 413) return "payload_too_large";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "internal";
  return "invalid_request";
}

function failure(error: WaystationError): { ok: false; error: WaystationError } {
  return { ok: false, error };
}
