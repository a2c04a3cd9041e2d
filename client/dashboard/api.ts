// The dashboard's API client: same-origin fetches with the bearer token, never cached, every
// refusal turned into an ApiFailure with the API's own code, message and issue paths.
import type { SeekResponse, SeekTarget } from "../../shared/groups";
import { isErrorBody } from "../../shared/errors";
import { readToken } from "./session";

export interface Issue {
  path: string;
  message: string;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: Issue[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "ApiFailure";
  }
}

/** Called on any 401, so the app can go back to the sign-in screen. */
let onUnauthorized: (failure: ApiFailure) => void = () => {};
export function setUnauthorizedHandler(handler: (failure: ApiFailure) => void): void {
  onUnauthorized = handler;
}

export async function call<T>(method: string, path: string, body?: unknown, token = readToken()): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiFailure(0, "network_error", "The worker did not answer: check the connection");
  }
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (response.ok) return parsed as T;
  const failure = isErrorBody(parsed)
    ? toFailure(response.status, parsed.error as Record<string, unknown>)
    : new ApiFailure(response.status, "http_error", `HTTP ${response.status}`);
  // Only the signed-in token's refusal signs out (the sign-in screen checks a token not yet kept).
  if (response.status === 401 && token !== null && token === readToken()) onUnauthorized(failure);
  throw failure;
}

function toFailure(status: number, error: Record<string, unknown>): ApiFailure {
  const { code, message, issues, ...details } = error;
  const list = Array.isArray(issues)
    ? issues.filter((i): i is Issue => typeof i === "object" && i !== null && typeof (i as Issue).message === "string")
    : [];
  return new ApiFailure(status, String(code), String(message ?? ""), list, details);
}

/** `/v1/stations/{station}` + rest, with every segment encoded. */
export function stationPath(station: string, ...rest: string[]): string {
  return ["/v1/stations", station, ...rest].map((part, i) => (i === 0 ? part : encodeURIComponent(part))).join("/");
}

/** Moves a consumer group (`POST …/groups/{group}/seek`): the "replay from…" action. */
export function seekGroup(station: string, group: string, to: SeekTarget): Promise<SeekResponse> {
  return call<SeekResponse>("POST", stationPath(station, "groups", group, "seek"), { to });
}

/** Runs `work` over `items`, at most `limit` at a time, in input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const run = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
  return results;
}
