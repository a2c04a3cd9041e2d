// The station's compiled schemas, per (name, version), fetched from the Catalog on first use.
// A station following `latest` learns new versions two ways: the schema PUT tells it at once
// (learnLatest), and it re-asks the catalog at most every LATEST_RECHECK_MS in case a notice
// was lost. So produce calls the catalog only on a cache miss, never on the hot path. A message
// stamped with the version its producer checked is judged by that version (schemasForBatch).
import type { SchemaRefSchema } from "../../../shared/config";
import { ErrorCode, fail, ok, type Result } from "../../../shared/errors";
import { MAX_SCHEMA_VERSIONS, type SchemaDraft, SchemaFormat } from "../../../shared/schemas";
import type { InferOutput } from "valibot";
import type { StoredSchema } from "../../catalog/schema-store";
import { type CompiledSchema, compileSchema } from "../../schemas/compile-schema";
import type { PreparedBatch, PreparedMessage } from "../log/batch";

type SchemaRef = InferOutput<typeof SchemaRefSchema>;

/** A station's schema in force, with its JSON text as stored. */
export interface StationSchemaText {
  name: string;
  version: number;
  follows: "latest" | "fixed";
  format: SchemaFormat;
  draft: SchemaDraft;
  text: string;
}
export type FetchSchema = (name: string, version: number | "latest") => Promise<Result<StoredSchema>>;

/** The schemas one produce batch is judged by: the station's current version, and the stamped ones it honours. */
export interface SchemaChoice {
  current: CompiledSchema;
  /** The version a message is judged by: its stamp's when honoured, else the current one. */
  forMessage(message: PreparedMessage): CompiledSchema;
}

/** Longest a station following `latest` goes without asking the catalog (if a push was lost). */
export const LATEST_RECHECK_MS = 5_000;
/** Compiled versions kept per station: its current one, and a few it moved away from. */
const MAX_COMPILED = 8;

export class SchemaCache {
  private readonly compiled = new Map<string, CompiledSchema>();
  private readonly latest = new Map<string, { version: number; checkedAt: number }>();
  private readonly inflight = new Map<string, Promise<Result<StoredSchema>>>();

  constructor(private readonly fetchSchema: FetchSchema) {}

  /**
   * The compiled schema for the station's current reference, read through `currentRef` again
   * after any wait: a config change while we fetched applies to this produce too.
   */
  async schemaFor(currentRef: () => SchemaRef | null, now: number): Promise<Result<CompiledSchema | null>> {
    for (let attempt = 0; ; attempt++) {
      const ref = currentRef();
      const result = await this.resolve(ref, now);
      if (!result.ok || attempt >= 2 || sameRef(ref, currentRef())) return result;
    }
  }

  /**
   * The schemas a batch is judged by. A station following `latest` judges a message stamped with
   * another version of its schema (`schemaVersion`, and `schemaName` if given, equal to its
   * schema's) by that version, so an action the SDK checked offline under v1 is judged by v1's
   * rules. A stamp of a version the catalog does not hold, of another schema, or sent to a
   * station fixed on one version, is judged by the current version. Catalog outages fail the
   * batch (`unavailable`): a sequenced ruling is final, so it is not made on a guess.
   */
  async schemasForBatch(currentRef: () => SchemaRef | null, now: number, batch: PreparedBatch): Promise<Result<SchemaChoice | null>> {
    const compiled = await this.schemaFor(currentRef, now);
    if (!compiled.ok) return compiled;
    if (compiled.value === null) return ok(null);
    const current = compiled.value;
    const stamped = new Map<number, CompiledSchema>();
    if (currentRef()?.version === "latest") {
      for (const version of honouredStamps(current, batch)) {
        const found = await this.version(current.ref.name, version);
        if (found.ok) stamped.set(version, found.value);
        else if (found.error.code !== ErrorCode.SchemaNotFound) return found;
      }
    }
    const forMessage = (message: PreparedMessage) => {
      const stamp = message.schemaStamp;
      return (stamp && (stamp.name === null || stamp.name === current.ref.name) && stamped.get(stamp.version)) || current;
    };
    return ok({ current, forMessage });
  }

  /** What `GET /v1/stations/{station}/schema` answers: the schema in force now, as stored. */
  async describe(currentRef: () => SchemaRef | null, now: number): Promise<Result<StationSchemaText | null>> {
    const compiled = await this.schemaFor(currentRef, now);
    const ref = currentRef();
    if (!compiled.ok || compiled.value === null || ref === null) return compiled.ok ? ok(null) : compiled;
    const { name, version } = compiled.value.ref;
    return ok({ name, version, follows: ref.version === "latest" ? "latest" : "fixed", format: compiled.value.format ?? SchemaFormat.JsonSchema, draft: compiled.value.draft, text: compiled.value.text });
  }

  /** A newer version of `name` exists (told by the schema PUT): use it from the next produce on. */
  learnLatest(name: string, version: number, now: number): void {
    const known = this.latest.get(name);
    if (!known || version >= known.version) this.latest.set(name, { version, checkedAt: now });
  }

  private async resolve(ref: SchemaRef | null, now: number): Promise<Result<CompiledSchema | null>> {
    if (ref === null) return ok(null);
    if (ref.version !== "latest") return this.version(ref.name, ref.version);
    const known = this.latest.get(ref.name);
    if (known && now - known.checkedAt < LATEST_RECHECK_MS) return this.version(ref.name, known.version);
    const fetched = await this.fetchOnce(ref.name, "latest");
    if (!fetched.ok && fetched.error.code === ErrorCode.Unavailable && known) {
      // The catalog is unreachable: keep enforcing the version we know, and ask again later.
      this.latest.set(ref.name, { version: known.version, checkedAt: now });
      return this.version(ref.name, known.version);
    }
    if (!fetched.ok) return fetched;
    this.learnLatest(ref.name, fetched.value.version, now);
    const version = this.latest.get(ref.name)!.version;
    return version === fetched.value.version ? ok(this.remember(fetched.value)) : this.version(ref.name, version);
  }

  private async version(name: string, version: number): Promise<Result<CompiledSchema>> {
    const cached = this.compiled.get(key(name, version));
    if (cached) return ok(cached);
    const fetched = await this.fetchOnce(name, version);
    if (!fetched.ok) return fetched;
    if (fetched.value.version !== version) return fail(ErrorCode.Internal, `Catalog answered version ${fetched.value.version} for ${version}`);
    return ok(this.remember(fetched.value));
  }

  /** One catalog call per (name, version) at a time, however many produces wait for it. */
  private fetchOnce(name: string, version: number | "latest"): Promise<Result<StoredSchema>> {
    const id = key(name, version);
    let pending = this.inflight.get(id);
    if (!pending) {
      pending = this.fetchSchema(name, version)
        .catch((error: unknown): Result<StoredSchema> => {
          console.warn(`schema ${name}@${version}: the catalog could not be reached`, error);
          return fail(ErrorCode.Unavailable, "The schema catalog was briefly unreachable: retry shortly", { retryAfterSeconds: 1 });
        })
        .finally(() => this.inflight.delete(id));
      this.inflight.set(id, pending);
    }
    return pending;
  }

  private remember(stored: StoredSchema): CompiledSchema {
    const id = key(stored.name, stored.version);
    const existing = this.compiled.get(id);
    if (existing) return existing;
    const compiled = compileSchema(stored);
    this.compiled.set(id, compiled);
    if (this.compiled.size > MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value!);
    return compiled;
  }
}

/** The distinct stamped versions of the station's schema other than the current one, in batch order. */
function honouredStamps(current: CompiledSchema, batch: PreparedBatch): number[] {
  const versions = new Set<number>();
  for (const message of batch.messages) {
    const stamp = message.schemaStamp;
    // Above the most versions a schema may have, no catalog call can find it.
    if (stamp && stamp.version !== current.ref.version && stamp.version <= MAX_SCHEMA_VERSIONS && (stamp.name === null || stamp.name === current.ref.name)) versions.add(stamp.version);
  }
  return [...versions];
}

function key(name: string, version: number | "latest"): string {
  return `${name}@${version}`;
}

function sameRef(a: SchemaRef | null, b: SchemaRef | null): boolean {
  return a === b || (a !== null && b !== null && a.name === b.name && a.version === b.version);
}
