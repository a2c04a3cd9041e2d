// Collaborative documents on the wire: a `kind: "doc"` station holds yjs updates as binary
// bodies (shared/binary.ts); `GET|POST /v1/stations/{station}/doc` answers the whole state
// (or what a state vector lacks) in one round trip. Plus the compaction settings of a doc station.
import * as v from "valibot";
import { type BinaryBody, decodeBase64, isBinaryBody } from "./binary";
import { intInRange, nonNegativeInt } from "./numbers";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Compact once this many updates arrived since the last snapshot… */
export const DEFAULT_DOC_COMPACT_AFTER_UPDATES = 500;
/** …or once they hold this many bytes. */
export const DEFAULT_DOC_COMPACT_AFTER_BYTES = 512 * KiB;
export const MAX_DOC_COMPACT_AFTER_UPDATES = 1_000_000;
export const MAX_DOC_COMPACT_AFTER_BYTES = 1024 * MiB;
/** A snapshot is stored in chunks of at most this many bytes: a SQLite row holds at most 2 MB. */
export const DOC_SNAPSHOT_CHUNK_BYTES = 1_000_000;
/** Most bytes of a state vector a client may send (a vector of ~100k clients). */
export const MAX_DOC_STATE_VECTOR_BYTES = 2 * MiB;

/** `config.doc` of a station: when its object merges updates into a snapshot. */
export const DocConfigSchema = v.strictObject({
  compactAfterUpdates: v.optional(intInRange(1, MAX_DOC_COMPACT_AFTER_UPDATES), DEFAULT_DOC_COMPACT_AFTER_UPDATES),
  compactAfterBytes: v.optional(intInRange(1, MAX_DOC_COMPACT_AFTER_BYTES), DEFAULT_DOC_COMPACT_AFTER_BYTES),
});
export type DocConfig = v.InferOutput<typeof DocConfigSchema>;

export const BinaryBodySchema = v.pipe(
  v.custom<BinaryBody>(isBinaryBody, 'Expected {"$binary": "<base64>"}'),
  v.check((body) => decodeBase64(body.$binary) !== null, "$binary is not base64"),
);

/** `GET /v1/stations/{station}/doc?stateVector=<base64>` (base64url works too). */
export const DocQuerySchema = v.strictObject({
  stateVector: v.optional(v.pipe(v.string(), v.check((text) => decodeBase64(text) !== null, "stateVector is not base64"))),
});

/** `POST /v1/stations/{station}/doc`: the same read with the state vector in the body. */
export const DocRequestSchema = v.strictObject({
  stateVector: v.optional(BinaryBodySchema),
});

/** The document state a station answers with. */
export const DocStateSchema = v.object({
  /** One yjs update: the whole document, or only what the given state vector lacks. */
  update: BinaryBodySchema,
  /** The station's state vector, to send back on the next catch-up. */
  stateVector: BinaryBodySchema,
  /** Every update at or below this offset is in `update`; follow the log from `offset + 1`. */
  offset: nonNegativeInt,
  /** The offset the stored snapshot covers (0 before the first compaction). */
  snapshotOffset: nonNegativeInt,
  /** How many raw updates above the snapshot were merged in. */
  tailUpdates: nonNegativeInt,
});
export type DocState = v.InferOutput<typeof DocStateSchema>;
