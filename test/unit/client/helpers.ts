// Shared set-up of the SDK unit tests: fake-indexeddb globals, an msw server playing the produce
// route on FakeStations with a queue of injected faults, a lock manager for several "tabs" in one
// process, and small waiting helpers.
import "fake-indexeddb/auto";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { createClient, type Client, type ClientOptions } from "../../../client/index";
import { FakeStation, foreign, json } from "./fake-station";

export const BASE_URL = "http://waystation.test";
/** A second name for the same worker (a custom domain beside workers.dev): the same stations. */
export const ALIAS_URL = "http://alias.waystation.test";
export const TOKEN = "unit-token";

export type Fault =
  /** The request never reaches the station. */
  | { kind: "network" }
  /** The station commits, the answer is lost. */
  | { kind: "lose-response" }
  /** The station answers this instead of handling the request (stamped with the protocol header). */
  | { kind: "status"; status: number; body?: unknown; headers?: Record<string, string> }
  /** Something in front of the station answers instead: no protocol header (an HTML page by default). */
  | { kind: "foreign"; status: number; body?: string; contentType?: string }
  /** Runs `run` (e.g. resets the station), then the request goes on. */
  | { kind: "run"; run: () => void }
  /** The station rules the messages before index `from` and answers the rest `unruled` (their partition was not reached). */
  | { kind: "unruled"; from: number };

export interface ProduceRequestSeen {
  station: string;
  producer: string;
  /** The partition the batch named (undefined: none). */
  partition: number | undefined;
  seqs: number[];
  bodies: unknown[];
  ids: (string | undefined)[];
  token: string | null;
  at: number;
}

export function startStationServer() {
  const stations = new Map<string, FakeStation>();
  const faults: Fault[] = [];
  const requests: ProduceRequestSeen[] = [];
  const state = {
    inFlight: 0,
    maxInFlight: 0,
    /** Which bearer tokens the server accepts. */
    accepts: (token: string | null) => token === `Bearer ${TOKEN}`,
    /** Refuse a batch for a reason of the test's own (checked after the token, before the station). */
    refuse: (_station: string, _body: { producer: string; messages: { seq: number; body: unknown }[] }): Response | undefined => undefined,
    /** Extra latency per request, ms. */
    delayMs: 0,
  };
  const station = (name: string) => {
    let s = stations.get(name);
    if (!s) stations.set(name, (s = new FakeStation()));
    return s;
  };
  const produce = async ({ request, params }: { request: Request; params: Record<string, unknown> }) => {
    const name = String(params.station);
    const body = (await request.json()) as { producer: string; partition?: number; messages: { seq: number; body: unknown; id?: string }[] };
    requests.push({
      station: name,
      producer: body.producer,
      partition: body.partition,
      seqs: body.messages.map((m) => m.seq),
      bodies: body.messages.map((m) => m.body),
      ids: body.messages.map((m) => m.id),
      token: request.headers.get("authorization"),
      at: Date.now(),
    });
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    try {
      if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));
      if (!state.accepts(request.headers.get("authorization"))) return json(401, { error: { code: "unauthorized", message: "Unknown token" } });
      let fault = faults.shift();
      while (fault?.kind === "run") {
        fault.run();
        fault = faults.shift();
      }
      if (fault?.kind === "network") return HttpResponse.error();
      if (fault?.kind === "status") return json(fault.status, fault.body ?? { error: { code: "internal", message: "injected" } }, fault.headers);
      if (fault?.kind === "foreign") return foreign(fault.status, fault.body, fault.contentType);
      const refused = state.refuse(name, body);
      if (refused) return refused;
      const [status, answer] = station(name).produce(body, fault?.kind === "unruled" ? fault.from : Infinity);
      if (fault?.kind === "lose-response") return HttpResponse.error();
      return json(status, answer);
    } finally {
      state.inFlight--;
    }
  };
  const server = setupServer(
    // The SDK's schema pre-check asks each station for its schema: these stations have none.
    http.get(`${BASE_URL}/v1/stations/:station/schema`, ({ params }) => json(200, { station: String(params.station), schema: null })),
    http.get(`${ALIAS_URL}/v1/stations/:station/schema`, ({ params }) => json(200, { station: String(params.station), schema: null })),
    http.post(`${BASE_URL}/v1/stations/:station/messages`, produce),
    http.post(`${ALIAS_URL}/v1/stations/:station/messages`, produce),
  );
  server.listen({ onUnhandledRequest: "error" });
  return { server, stations, station, faults, requests, state, close: () => server.close() };
}

let dbCounter = 0;

/** A client on a fresh database (unless `dbName` is given), fast timings, no Web Locks. */
export function makeClient(options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: BASE_URL,
    token: options.getToken ? undefined : TOKEN,
    dbName: `unit-${process.pid}-${++dbCounter}`,
    locks: null,
    debounceMs: 1,
    backoffBaseMs: 5,
    backoffMaxMs: 40,
    syncIntervalMs: 60_000,
    ...options,
  });
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A Web Locks stand-in shared by the "tabs" of one origin: exclusive, FIFO, released when the
 * callback's promise settles, and a waiting request can be aborted.
 */
export class FakeLockManager {
  private readonly held = new Set<string>();
  private readonly queues = new Map<string, (() => void)[]>();

  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        this.held.add(name);
        void callback().finally(() => {
          this.held.delete(name);
          resolve();
          this.queues.get(name)?.shift()?.();
        });
      };
      if (!this.held.has(name)) return grant();
      const queue = this.queues.get(name) ?? [];
      this.queues.set(name, queue);
      queue.push(grant);
      options.signal?.addEventListener("abort", () => {
        const at = queue.indexOf(grant);
        if (at >= 0) queue.splice(at, 1);
        reject(new DOMException("aborted", "AbortError"));
      });
    });
  }
}

export function asLockManager(fake: FakeLockManager): LockManager {
  return fake as unknown as LockManager;
}
