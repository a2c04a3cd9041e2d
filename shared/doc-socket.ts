// The live side of a doc station: `GET /v1/stations/{station}/doc/subscribe` (WebSocket). The
// server pushes each produced batch of updates; clients relay awareness (cursors, presence),
// which the station passes on to the other sockets and never stores. Edits themselves are
// produced over HTTP (the SDK's outbox), so the socket carries nothing that must not be lost.
import * as v from "valibot";
import { type BinaryBody } from "./binary";
import { nonNegativeInt } from "./numbers";

/** Most bytes of one client frame (awareness): a cursor and a name, not a document. */
export const MAX_DOC_CLIENT_FRAME_BYTES = 16 * 1024;
/** Most bytes of one awareness state as JSON; the station keeps at most this much per client. */
export const MAX_AWARENESS_STATE_BYTES = 4 * 1024;
/** Most awareness states in one frame, and most one socket speaks for (its own, a few more for its other tabs). */
export const MAX_AWARENESS_STATES = 16;
/** Most awareness states a station holds for all its sockets together; more are refused. */
export const MAX_STATION_AWARENESS_STATES = 1024;
/** Awareness frames one socket may send: a sustained rate (bursts of twice as many pass); the SDK
 *  sends at most AWARENESS_SEND_INTERVAL_MS apart. Over it a frame is refused (`rate_limited`). */
export const AWARENESS_FRAMES_PER_SECOND = 20;
export const AWARENESS_BYTES_PER_SECOND = 32 * 1024;
/** Bytes of awareness one station relays per second, counted once per recipient (a frame to 50
 *  sockets counts 50 times): relaying is what a flood multiplies. Over it, frames are refused. */
export const AWARENESS_RELAY_BYTES_PER_SECOND = 8 * 1024 * 1024;
/** The SDK coalesces awareness changes to at most one frame per this interval. */
export const AWARENESS_SEND_INTERVAL_MS = 100;
/** Larger pushes are replaced by `stale`: the client catches up over HTTP (`POST …/doc`). */
export const MAX_DOC_PUSH_BYTES = 512 * 1024;
/** A client renews its awareness this often; a state not renewed for twice as long is dropped. */
export const AWARENESS_RENEW_MS = 15_000;
/** The station drops a state not renewed within this long (y-protocols' outdated timeout). */
export const AWARENESS_EXPIRE_MS = 2 * AWARENESS_RENEW_MS;

/** One client's awareness, as y-protocols has it: a clock per clientID, `null` state = gone. */
export const AwarenessStateSchema = v.strictObject({
  clientID: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  clock: nonNegativeInt,
  state: v.nullable(v.unknown()),
});
export type AwarenessState = { clientID: number; clock: number; state: unknown };

/** Client → server. */
export const DocClientFrameSchema = v.variant("type", [
  v.strictObject({
    type: v.literal("awareness"),
    states: v.pipe(v.array(AwarenessStateSchema), v.minLength(1), v.maxLength(MAX_AWARENESS_STATES)),
  }),
]);
export type DocClientFrame = v.InferOutput<typeof DocClientFrameSchema>;

/** A `$binary` value (shared/binary.ts) inside a frame. */
const BinaryValueSchema = v.strictObject({ $binary: v.string() });

/** An error a frame reports: a code of shared/errors.ts, a message, maybe details. */
const FrameErrorSchema = v.looseObject({ code: v.string(), message: v.string() });

/** Server → client, validated on receipt (the SDK drops a frame that does not match). */
export const DocServerFrameSchema = v.variant("type", [
  /** Sent once on connect: the offset the log stood at; catch up over HTTP from here. */
  v.object({ type: v.literal("hello"), offset: nonNegativeInt }),
  /** Updates produced at offsets `from`…`offset`, merged into one. */
  v.object({ type: v.literal("update"), update: BinaryValueSchema, from: nonNegativeInt, offset: nonNegativeInt }),
  /** Updates up to `offset` were too large to push: fetch them with `POST …/doc`. */
  v.object({ type: v.literal("stale"), offset: nonNegativeInt }),
  v.object({ type: v.literal("awareness"), states: v.array(AwarenessStateSchema) }),
  v.object({ type: v.literal("error"), error: FrameErrorSchema }),
]);
export type DocServerFrame =
  | { type: "hello"; offset: number }
  | { type: "update"; update: BinaryBody; from: number; offset: number }
  | { type: "stale"; offset: number }
  | { type: "awareness"; states: AwarenessState[] }
  | { type: "error"; error: { code: string; message: string; [detail: string]: unknown } };
