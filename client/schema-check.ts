// The browser's own schema check: before an action is queued, its body is validated against the
// station's schema (GET /v1/stations/{s}/schema, cached in IndexedDB), so a user offline learns
// at once. The station stays the final judge: no cache, or no answer, never blocks an enqueue.
import type { Schema } from "@cfworker/json-schema";
import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import { describeFailure, type SchemaViolation, type StationSchemaResponse, StationSchemaResponseSchema } from "../shared/schemas";
import type { ClientCore } from "./client-core";
import type { EncodedAction } from "./encode";
import { WaystationError } from "./errors";

type StationSchema = NonNullable<StationSchemaResponse["schema"]>;
/** The failure, null when the body passes, undefined when it could not be checked here (the station judges). */
type BodyCheck = (body: unknown) => Omit<SchemaViolation, "index" | "seq"> | null | undefined;

/** A cached schema older than this is refreshed in the background by the next enqueue. */
const REFRESH_AFTER_MS = 15_000;
/** A refusal by a cached schema older than this is first confirmed with the station, if it answers. */
const CONFIRM_AFTER_MS = 5_000;
/** How long an enqueue waits for the schema when nothing is cached; then it goes on unchecked. */
const FIRST_FETCH_WAIT_MS = 1_500;
/** How long an enqueue waits for the station to confirm a refusal; then the cached verdict stands. */
const CONFIRM_WAIT_MS = 2_000;
/** After a failed fetch (offline, unknown station), enqueues go on unchecked this long before trying again. */
const FETCH_RETRY_MS = 5_000;

interface CacheRecord {
  /** `${url} ${station}` */
  key: string;
  /** The station's schema when last asked; null: it had none. */
  schema: StationSchema | null;
  fetchedAt: number;
}

interface SchemaCacheDB extends DBSchema {
  schemas: { key: string; value: CacheRecord };
}

interface StationState {
  key: string;
  station: string;
  record: CacheRecord | null;
  loaded: Promise<void>;
  fetching?: Promise<CacheRecord | null>;
  failedAt: number;
  /** Checks of one station run in call order, so enqueues keep their order. */
  tail: Promise<unknown>;
}

const perClient = new WeakMap<ClientCore, ClientSchemas>();

/**
 * Rejects with a `schema_violation` {@link WaystationError} (status 0, `details.local: true`) when
 * the action's body fails the station's schema; resolves otherwise. An action that passed is
 * stamped with the version it was checked against (`schemaName`, `schemaVersion`), so the station
 * judges it by that version even if a newer one comes before it is sent (docs/schemas.md).
 */
export async function checkBeforeEnqueue(client: ClientCore, station: string, action: EncodedAction): Promise<void> {
  const checked = await schemasOf(client).check(station, action.body);
  if (checked) {
    action.schemaName = checked.name;
    action.schemaVersion = checked.version;
  }
}

/** Starts fetching a station's schema if none is cached, so a later offline enqueue is checked. */
export function prefetchSchema(client: ClientCore, station: string): void {
  schemasOf(client).prefetch(station);
}

function schemasOf(client: ClientCore): ClientSchemas {
  let schemas = perClient.get(client);
  if (!schemas) perClient.set(client, (schemas = new ClientSchemas(client)));
  return schemas;
}

class ClientSchemas {
  private readonly stations = new Map<string, StationState>();
  private readonly checks = new Map<string, Promise<BodyCheck>>();
  private db: Promise<IDBPDatabase<SchemaCacheDB> | null> | undefined;

  constructor(private readonly client: ClientCore) {
    // The station says which version refused an action: a different one means our copy is stale.
    client.on("rejected", (event) => {
      if (event.code !== "schema_violation") return;
      const state = this.stations.get(event.station);
      const reported = event.error.details.schema as { name?: unknown; version?: unknown } | undefined;
      const cached = state?.record?.schema;
      if (state && (!cached || cached.name !== reported?.name || cached.version !== reported?.version)) void this.refresh(state);
    });
    // The station dead-lettered an action our copy let through: ask again.
    client.on("acked", (event) => {
      const state = this.stations.get(event.station);
      if (event.deadLettered && state && this.age(state) > CONFIRM_AFTER_MS) void this.refresh(state);
    });
  }

  /** The schema version the body passed, or null when it was not checked (no schema, none cached, none runnable here). */
  check(station: string, body: string): Promise<SchemaStamp | null> {
    const state = this.stateOf(station);
    const run = state.tail.then(() => this.checkNow(state, body));
    state.tail = run.catch(() => undefined);
    return run;
  }

  prefetch(station: string): void {
    const state = this.stateOf(station);
    void state.loaded.then(() => {
      if (!state.record || this.age(state) > REFRESH_AFTER_MS) void this.refresh(state);
    });
  }

  private async checkNow(state: StationState, body: string): Promise<SchemaStamp | null> {
    if (this.client.closed) return null;
    await state.loaded;
    let record = state.record;
    if (!record) {
      if (Date.now() - state.failedAt < FETCH_RETRY_MS) return null;
      record = await this.fetchWithin(state, FIRST_FETCH_WAIT_MS);
      if (!record) return null; // no answer: the station will judge
    } else if (this.age(state) > REFRESH_AFTER_MS) {
      void this.refresh(state);
    }
    // Protobuf schemas are for server-side producers: the browser bundle stays JSON-only, the station judges.
    if (!record.schema || (record.schema.format ?? "json-schema") !== "json-schema") return null;
    let failure = await this.validate(record.schema, body);
    if (!failure) return stampOf(record.schema, failure);
    const offline = typeof navigator !== "undefined" && navigator.onLine === false;
    if (this.age(state) > CONFIRM_AFTER_MS && !offline && Date.now() - state.failedAt >= FETCH_RETRY_MS) {
      const fresh = await this.fetchWithin(state, CONFIRM_WAIT_MS);
      if (fresh) {
        record = fresh;
        if (!fresh.schema || (fresh.schema.format ?? "json-schema") !== "json-schema") return null;
        failure = await this.validate(fresh.schema, body);
        if (!failure) return stampOf(fresh.schema, failure);
      }
    }
    throw violation(state.station, record, failure);
  }

  private async validate(schema: StationSchema, body: string): Promise<ReturnType<BodyCheck>> {
    const id = `${schema.name}@${schema.version}`;
    let check = this.checks.get(id);
    if (!check) {
      check = compile(schema);
      this.checks.set(id, check);
      check.catch(() => this.checks.delete(id));
    }
    let compiled: BodyCheck;
    try {
      compiled = await check;
    } catch {
      return undefined; // a schema this browser cannot run: the station judges
    }
    return compiled(JSON.parse(body));
  }

  /** The station's schema, fetched now (one request at a time), or null if none came within `waitMs`. */
  private fetchWithin(state: StationState, waitMs: number): Promise<CacheRecord | null> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    return Promise.race([this.refresh(state), timeout]).finally(() => clearTimeout(timer));
  }

  private refresh(state: StationState): Promise<CacheRecord | null> {
    if (this.client.closed) return Promise.resolve(null);
    state.fetching ??= this.fetchSchema(state).finally(() => (state.fetching = undefined));
    return state.fetching;
  }

  private async fetchSchema(state: StationState): Promise<CacheRecord | null> {
    const path = `/v1/stations/${encodeURIComponent(state.station)}/schema`;
    const outcome = await this.client.transport.send("GET", path, undefined, StationSchemaResponseSchema, { timeoutMs: 10_000 });
    if (!outcome.ok) {
      state.failedAt = Date.now();
      return null;
    }
    const record: CacheRecord = { key: state.key, schema: outcome.value.schema, fetchedAt: Date.now() };
    state.record = record;
    if (record.schema) void loadValidator().catch(() => undefined);
    state.failedAt = 0;
    try {
      await (await this.open())?.put("schemas", record);
    } catch {
      // Not cached across reloads this time; still used in this page.
    }
    return record;
  }

  private stateOf(station: string): StationState {
    let state = this.stations.get(station);
    if (!state) {
      const key = `${this.client.url} ${station}`;
      const created: StationState = { key, station, record: null, loaded: Promise.resolve(), failedAt: 0, tail: Promise.resolve() };
      created.loaded = this.load(key).then((record) => {
        if (record && !created.record) created.record = record;
        if (record?.schema) void loadValidator().catch(() => undefined);
      });
      this.stations.set(station, (state = created));
    }
    return state;
  }

  private async load(key: string): Promise<CacheRecord | undefined> {
    try {
      return await (await this.open())?.get("schemas", key);
    } catch {
      return undefined;
    }
  }

  private age(state: StationState): number {
    return state.record ? Date.now() - state.record.fetchedAt : Infinity;
  }

  /** The cache database, beside the outbox's (its own, so the outbox schema never changes for it). */
  private open(): Promise<IDBPDatabase<SchemaCacheDB> | null> {
    if (!this.db) {
      const opening = openDB<SchemaCacheDB>(`${this.client.conn.name}-schemas`, 1, {
        upgrade: (db) => void db.createObjectStore("schemas", { keyPath: "key" }),
        blocking: () => this.close(opening),
        terminated: () => this.close(opening),
      }).catch(() => null);
      this.db = opening;
    }
    return this.db;
  }

  private close(which: Promise<IDBPDatabase<SchemaCacheDB> | null>): void {
    if (this.db !== which) return;
    this.db = undefined;
    void which.then((db) => db?.close());
  }
}

let validatorModule: Promise<typeof import("@cfworker/json-schema")> | undefined;

/**
 * The validator is a separate chunk of the bundle (it is most of the SDK's weight and only
 * stations with a schema need it). It is loaded as soon as a schema is known, while the page is
 * still online, so that a check made later offline does not need the network.
 */
function loadValidator(): Promise<typeof import("@cfworker/json-schema")> {
  validatorModule ??= import("@cfworker/json-schema");
  validatorModule.catch(() => (validatorModule = undefined)); // offline now: try again next time
  return validatorModule;
}

interface SchemaStamp {
  name: string;
  version: number;
}

/** The version a body passed (`null`), or null when it was not checked (`undefined`). */
function stampOf(schema: StationSchema, outcome: null | undefined): SchemaStamp | null {
  return outcome === null ? { name: schema.name, version: schema.version } : null;
}

/** Compiles a schema with the same validator the station runs. */
async function compile(schema: StationSchema): Promise<BodyCheck> {
  const { Validator } = await loadValidator();
  const validator = new Validator(schema.schema as Schema | boolean, schema.draft, true);
  return (body) => {
    try {
      const result = validator.validate(body);
      return result.valid ? null : describeFailure(result.errors);
    } catch {
      return undefined; // too deep to walk here: the station judges
    }
  };
}

function violation(station: string, record: CacheRecord, failure: Omit<SchemaViolation, "index" | "seq">): WaystationError {
  const { name, version } = record.schema!;
  const where = failure.path ? ` at ${failure.path}` : "";
  return new WaystationError("schema_violation", `The body fails schema ${name} v${version} of station ${station}${where}: ${failure.reason}`, 0, {
    schema: { name, version },
    violations: [{ index: 0, seq: null, ...failure }],
    violationCount: 1,
    /** Refused in the browser, before anything was queued. */
    local: true,
    checkedAt: record.fetchedAt,
  });
}
