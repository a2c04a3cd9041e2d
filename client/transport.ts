// HTTP to the Waystation API: bearer token (getToken asked again once on 401), a timeout on
// every request, Retry-After read, and every answer checked against the shared schemas.
// Returns outcomes as values; it never retries on its own beyond the one 401 refresh.
import * as v from "valibot";
import { type ErrorCode, isErrorBody } from "../shared/errors";
import { PROTOCOL_HEADER, PROTOCOL_VERSION } from "../shared/version";
import { WaystationError } from "./errors";

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: WaystationError };

export interface TransportOptions {
  url: string;
  token?: string;
  getToken?: () => string | Promise<string>;
  fetch?: typeof fetch;
  requestTimeoutMs: number;
}

/** Longest Retry-After honoured, so a wrong header cannot park the queue for days. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export class Transport {
  private token: Promise<string> | undefined;

  constructor(private readonly options: TransportOptions) {}

  /** The token to send; `refresh` asks getToken again unless someone already did since `stale`. */
  async bearer(stale?: string): Promise<string> {
    const { token, getToken } = this.options;
    if (!getToken) return token ?? "";
    if (!this.token || (stale !== undefined && (await this.token.catch(() => undefined)) === stale)) {
      const next = Promise.resolve().then(getToken);
      this.token = next;
      next.catch(() => {
        if (this.token === next) this.token = undefined;
      });
    }
    return this.token;
  }

  async send<S extends v.GenericSchema>(
    method: string,
    path: string,
    body: string | undefined,
    schema: S,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Outcome<v.InferOutput<S>>> {
    let stale: string | undefined;
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        token = await this.bearer(stale);
      } catch (error) {
        return failure(new WaystationError("unauthorized", `getToken failed: ${(error as Error)?.message ?? error}`));
      }
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
          signal: withTimeout(options.signal, options.timeoutMs ?? this.options.requestTimeoutMs),
        });
        text = await res.text();
      } catch (error) {
        return failure(new WaystationError("network_error", `No response: ${(error as Error)?.message ?? error}`));
      }
      if (res.status === 401 && attempt === 0 && this.options.getToken) {
        stale = token; // once, with a fresh token
        continue;
      }
      return readResponse(res, text, schema);
    }
  }
}

function readResponse<S extends v.GenericSchema>(res: Response, text: string, schema: S): Outcome<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (res.ok) {
    const parsed = v.safeParse(schema, json);
    if (parsed.success) return { ok: true, value: parsed.output };
    return failure(new WaystationError("bad_response", `Unexpected ${res.status} response`, res.status));
  }
  const retryAfterMs = parseRetryAfter(res.headers.get("retry-after"), Date.now());
  if (isErrorBody(json)) {
    const { code, message, ...details } = json.error;
    return failure(new WaystationError(code, String(message), res.status, details, retryAfterMs));
  }
  return failure(new WaystationError(codeForStatus(res.status), `HTTP ${res.status}`, res.status, {}, retryAfterMs));
}

function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  // AbortSignal.any: Chrome 116, Safari 17.4. Without it a stopped consumer's poll ends on its own.
  return signal && AbortSignal.any ? AbortSignal.any([signal, timeout]) : timeout;
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
