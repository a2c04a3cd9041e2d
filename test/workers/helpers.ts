// Helpers for driving the Worker from inside workerd, as a client would over HTTP.
import { exports } from "cloudflare:workers";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";
const BASE = "https://waystation.test";

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  init: { token?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? ADMIN_TOKEN : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  let payload: string | undefined = init.raw;
  if (body !== undefined) {
    payload = JSON.stringify(body);
    headers["content-type"] ??= "application/json";
  }
  const response = await (exports as any).default.fetch(new Request(`${BASE}${path}`, { method, headers, body: payload }));
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed as T };
}

let counter = 0;
/** A fresh station name per test: tests share storage within a file. */
export function uniqueStation(prefix = "st"): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

export async function createStation(config: Record<string, unknown> = {}, name = uniqueStation()): Promise<string> {
  const res = await api("PUT", `/v1/stations/${name}`, config);
  if (res.status !== 201) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return name;
}

export function produce(station: string, request: unknown) {
  return api("POST", `/v1/stations/${station}/messages`, request);
}

export function seqBatch(from: number, count: number, body: (seq: number) => unknown = (seq) => ({ n: seq })) {
  return Array.from({ length: count }, (_, i) => ({ seq: from + i, body: body(from + i) }));
}
