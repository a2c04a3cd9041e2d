// client/collab/split.ts on random documents: every piece fits (or is a single value reported as
// oversized), the pieces applied in any order give the same document as the whole update, and
// no cut lands inside a surrogate pair. Seeded: DOCS_SPLIT_SEED=<n> replays one seed.
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { splitUpdate, updateBytesFor } from "../../client/collab/split";
import { seededRandom } from "../seeded-random";

const SEEDS = process.env.DOCS_SPLIT_SEED ? [Number(process.env.DOCS_SPLIT_SEED)] : Array.from({ length: 40 }, (_, i) => 1000 + i);

/** `index`, moved off the middle of a surrogate pair (an edit there would break the pair in the source already). */
function whole(text: string, index: number): number {
  const code = text.charCodeAt(index - 1);
  return index > 0 && index < text.length && code >= 0xd800 && code <= 0xdbff ? index - 1 : index;
}

/** A random edit of text, maps, arrays and binaries on `doc`, in one transaction. */
function randomEdit(doc: Y.Doc, next: () => number): void {
  const word = (n: number) => Array.from({ length: n }, (_, i) => (next() < 0.1 ? "😀" : next() < 0.1 ? "é" : String.fromCharCode(97 + ((i * 7) % 26)))).join("");
  doc.transact(() => {
    const text = doc.getText("t");
    const roll = next();
    const current = text.toString();
    if (roll < 0.4) text.insert(whole(current, Math.floor(next() * (text.length + 1))), word(1 + Math.floor(next() * 3000)));
    else if (roll < 0.55 && text.length > 0) {
      const at = whole(current, Math.floor(next() * text.length));
      const end = whole(current, Math.min(text.length, at + 1 + Math.floor(next() * 500)));
      if (end > at) text.delete(at, end - at);
    } else if (roll < 0.7) doc.getMap("m").set(`k${Math.floor(next() * 5)}`, word(1 + Math.floor(next() * 800)));
    else if (roll < 0.85) doc.getArray("a").insert(0, Array.from({ length: 1 + Math.floor(next() * 200) }, (_, i) => ({ i, s: word(5) })));
    else doc.getMap("bin").set(`b${Math.floor(next() * 3)}`, new Uint8Array(1 + Math.floor(next() * 3000)).fill(Math.floor(next() * 255)));
  });
}

function shuffled<T>(items: T[], next: () => number): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("splitUpdate", () => {
  it.each(SEEDS)("seed %i: pieces fit, and in any order rebuild the same document", (seed) => {
    const next = seededRandom(seed);
    const doc = new Y.Doc();
    const receiver = new Y.Doc();
    const maxBytes = 512 + Math.floor(next() * 4096);
    // Some history the receiver already has, then a burst it lacks.
    for (let i = 0; i < 5; i++) randomEdit(doc, next);
    Y.applyUpdate(receiver, Y.encodeStateAsUpdate(doc));
    const before = Y.encodeStateVector(doc);
    for (let i = 0; i < 10; i++) randomEdit(doc, next);
    const update = Y.diffUpdate(Y.encodeStateAsUpdate(doc), before);

    const { pieces, oversized } = splitUpdate(doc, update, maxBytes);
    const oversizedCount = pieces.filter((piece) => piece.byteLength > maxBytes).length;
    expect(oversizedCount, `seed ${seed}`).toBe(oversized.length);
    for (const value of oversized) expect(value.bytes, `seed ${seed}`).toBeGreaterThan(maxBytes);
    for (const piece of shuffled(pieces, next)) Y.applyUpdate(receiver, piece);

    expect(doc.getText("t").toString()).not.toContain("\ufffd");
    expect(receiver.getText("t").toString(), `seed ${seed}`).toBe(doc.getText("t").toString());
    for (const name of ["m", "bin"]) expect(receiver.getMap(name).toJSON(), `seed ${seed}`).toEqual(doc.getMap(name).toJSON());
    expect(receiver.getArray("a").toJSON(), `seed ${seed}`).toEqual(doc.getArray("a").toJSON());
    expect(Y.encodeStateVector(receiver), `seed ${seed}`).toEqual(Y.encodeStateVector(doc));
  });

  it("leaves an update that fits alone, and names a single value too large to cut", () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on("update", (update: Uint8Array) => updates.push(update));
    doc.getText("t").insert(0, "small");
    doc.getMap("m").set("blob", new Uint8Array(10_000));
    expect(splitUpdate(doc, updates[0]!, 1024).pieces).toEqual([updates[0]]);
    const { pieces, oversized } = splitUpdate(doc, updates[1]!, 1024);
    expect(pieces).toHaveLength(1);
    expect(oversized).toEqual([{ client: doc.clientID, clock: 5, bytes: pieces[0]!.byteLength }]);
  });

  it("sizes pieces for a station's maxMessageBytes, base64 and the $binary wrapper included", () => {
    for (const max of [100, 8192, 1_048_576, 1_900_000]) {
      const bytes = updateBytesFor(max);
      const body = JSON.stringify({ $binary: Buffer.alloc(bytes).toString("base64") });
      expect(body.length).toBeLessThanOrEqual(max);
      expect(max - body.length).toBeLessThan(32);
    }
  });
});
