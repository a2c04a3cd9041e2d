// Splits a yjs update too large for one message into pieces that fit (each a run of one client's
// structs, a valid update on its own: a receiver keeps it pending until what it builds on has
// arrived), and names the single values that no cut makes small enough.
import * as Y from "yjs";

const utf8 = new TextEncoder();

/** What `splitUpdate` made of an update. */
export interface SplitUpdate {
  /** Updates of at most `maxBytes` each, except the `oversized` ones; together they hold the update. */
  pieces: Uint8Array[];
  /** Single values (one clock) whose piece alone is over `maxBytes`: no cut makes them smaller. */
  oversized: { client: number; clock: number; bytes: number }[];
}

/** Most bytes of a yjs update carried by one message of at most `maxMessageBytes` (base64 in `{"$binary": "…"}`). */
export function updateBytesFor(maxMessageBytes: number): number {
  return Math.max(1, Math.floor((maxMessageBytes - 16) / 4) * 3);
}

/**
 * Cuts `update` (which `doc` holds) into pieces of at most `maxBytes`. Reads the structs from a
 * copy of `doc` (never from `doc` itself: cutting splits structs in the copy it reads), so a
 * piece carries what the document holds now — content deleted since is sent as deleted, smaller.
 * The update's delete set travels in its own piece (or with the last one, when it fits).
 */
export function splitUpdate(doc: Y.Doc, update: Uint8Array, maxBytes: number): SplitUpdate {
  if (update.byteLength <= maxBytes) return { pieces: [update], oversized: [] };
  const meta = Y.parseUpdateMeta(update);
  const copy = new Y.Doc({ gc: false });
  try {
    Y.applyUpdate(copy, Y.encodeStateAsUpdate(doc));
    for (const [client, to] of meta.to) {
      // A range the document does not hold whole (pending structs) cannot be cut from it.
      if (Y.getState(copy.store, client) < to) return { pieces: [update], oversized: [] };
    }
    const pieces: Uint8Array[] = [];
    const oversized: SplitUpdate["oversized"] = [];
    for (const [client, from] of meta.from) {
      const to = meta.to.get(client)!;
      let cut = from;
      while (cut < to) {
        let end = plannedEnd(copy, client, cut, to, Math.floor(maxBytes * 0.9));
        let piece = encodeRange(copy, client, cut, end);
        while (piece.byteLength > maxBytes && end - cut > 1) {
          end = safeCut(copy, client, cut, cut + Math.floor((end - cut) / 2));
          piece = encodeRange(copy, client, cut, end);
        }
        if (piece.byteLength > maxBytes) oversized.push({ client, clock: cut, bytes: piece.byteLength });
        pieces.push(piece);
        cut = end;
      }
    }
    const deletions = Y.diffUpdate(update, Y.encodeStateVector(meta.to));
    if (Y.decodeUpdate(deletions).ds.clients.size > 0) pieces.push(deletions);
    return { pieces: packPieces(pieces, maxBytes), oversized };
  } finally {
    copy.destroy();
  }
}

/** Joins neighbouring small pieces while they fit (fewer messages; order kept). */
function packPieces(pieces: Uint8Array[], maxBytes: number): Uint8Array[] {
  const packed: Uint8Array[] = [];
  let group: Uint8Array[] = [];
  let bytes = 0;
  const flush = () => {
    if (group.length > 0) packed.push(group.length === 1 ? group[0]! : Y.mergeUpdates(group));
    group = [];
    bytes = 0;
  };
  for (const piece of pieces) {
    if (bytes + piece.byteLength > maxBytes) flush();
    group.push(piece);
    bytes += piece.byteLength;
  }
  flush();
  return packed;
}

/** Where a piece from `cut` should end to hold about `budget` bytes (at least one clock). */
function plannedEnd(copy: Y.Doc, client: number, cut: number, to: number, budget: number): number {
  const structs = copy.store.clients.get(client)!;
  let bytes = 16;
  let end = cut;
  for (let index = Y.findIndexSS(structs, cut); index < structs.length && end < to; index++) {
    const struct = structs[index]!;
    const start = Math.max(cut, struct.id.clock);
    const stop = Math.min(to, struct.id.clock + struct.length);
    const perClock = structBytes(struct) / struct.length;
    const size = perClock * (stop - start);
    if (bytes + size <= budget) {
      bytes += size;
      end = stop;
      continue;
    }
    const room = Math.floor((budget - bytes) / perClock);
    end = Math.max(end, start + Math.max(room, end === cut ? 1 : 0));
    break;
  }
  return safeCut(copy, client, cut, Math.min(end, to));
}

/** The encoded size of one struct (text by its UTF-8 length plus room for the struct's header). */
function structBytes(struct: Y.Item | Y.GC): number {
  if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) return 32 + utf8.encode(struct.content.str).byteLength;
  const encoder = new Y.UpdateEncoderV1();
  struct.write(encoder, 0);
  return encoder.toUint8Array().byteLength;
}

/**
 * `end`, moved off the middle of a UTF-16 surrogate pair: yjs replaces a split pair with U+FFFD
 * on both sides, which would change the text. Stays above `cut`.
 */
function safeCut(copy: Y.Doc, client: number, cut: number, end: number): number {
  const structs = copy.store.clients.get(client)!;
  if (end <= cut + 1 || end >= Y.getState(copy.store, client)) return Math.max(end, cut + 1);
  const struct = structs[Y.findIndexSS(structs, end - 1)]!;
  if (struct instanceof Y.Item && struct.content instanceof Y.ContentString) {
    const code = struct.content.str.charCodeAt(end - 1 - struct.id.clock);
    if (code >= 0xd800 && code <= 0xdbff) return end - 1 > cut ? end - 1 : end + 1;
  }
  return end;
}

/** One client's structs [from, to) as a v1 update with an empty delete set. */
function encodeRange(copy: Y.Doc, client: number, from: number, to: number): Uint8Array {
  const encoder = new Y.UpdateEncoderV1();
  let count = 0;
  copy.transact((transaction) => {
    if (to < Y.getState(copy.store, client)) Y.getItemCleanStart(transaction, Y.createID(client, to));
    const structs = copy.store.clients.get(client)!;
    const first = Y.findIndexSS(structs, from);
    const last = Y.findIndexSS(structs, to - 1);
    for (let index = first; index <= last; index++) {
      const struct = structs[index]!;
      struct.write(encoder, index === first ? from - struct.id.clock : 0);
      count += 1;
    }
  });
  const head = [...varUint(1), ...varUint(count), ...varUint(client), ...varUint(from)];
  const body = encoder.toUint8Array();
  const out = new Uint8Array(head.length + body.byteLength + 1);
  out.set(head, 0);
  out.set(body, head.length);
  out[out.length - 1] = 0; // no deletions
  return out;
}

function varUint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push(0x80 | (value & 0x7f));
    value = Math.floor(value / 128);
  }
  bytes.push(value);
  return bytes;
}
