// A doc station and the edits it refuses: the gap a refused update leaves shows in the station's state
// vector, later updates wait behind it (through compactions), and the client's repair — its diff against
// that state vector, split to fit (client/collab/split.ts) — closes it.
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { encodeBinaryBody } from "../../shared/binary";
import { splitUpdate, updateBytesFor } from "../../client/collab/split";
import { canonicalState, createDocStation, readDoc, recordingDoc, runAlarmNow, textOf } from "./docs-helpers";
import { produce } from "./helpers";

const MAX = 4096;

describe("doc stations: refused edits and their repair", () => {
  it("rules a too-large update refused in its seq, keeps the later ones, and converges once the diff against its state vector arrives in pieces", async () => {
    const station = await createDocStation({ maxMessageBytes: MAX, doc: { compactAfterUpdates: 2 } });
    const { doc, updates } = recordingDoc(7);
    const text = doc.getText("t");
    text.insert(0, "hello ");
    text.insert(6, "x".repeat(10_000)); // one update over the station's maxMessageBytes
    text.insert(text.length, " after");
    expect(updates).toHaveLength(3);

    const res = await produce(station, { producer: "p", messages: updates.map((update, i) => ({ seq: i + 1, body: encodeBinaryBody(update) })) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.results[0]).toMatchObject({ seq: 1, offset: 1 });
    expect(res.body.results[1]).toMatchObject({ seq: 2, offset: null, refused: { code: "message_too_large", maxMessageBytes: MAX } });
    expect(res.body.results[2]).toMatchObject({ seq: 3, offset: 2 });

    // The station holds update 3, but nobody can apply it before the missing range: the state
    // vector stops at the gap, so a client sees what the station lacks.
    const gapped = await readDoc(station);
    expect(Y.decodeStateVector(gapped.stateVector).get(7)).toBe("hello ".length);
    expect(textOf(gapped.update)).toBe("hello ");

    // Through a compaction the gap stays a gap, and the later update stays held.
    await runAlarmNow(station);
    const compacted = await readDoc(station);
    expect(compacted.snapshotOffset).toBe(2);
    expect(compacted.stateVector).toEqual(gapped.stateVector);

    // The repair: what the client has beyond the station's state vector, in pieces that fit.
    const missing = Y.diffUpdate(Y.encodeStateAsUpdate(doc), compacted.stateVector);
    const { pieces, oversized } = splitUpdate(doc, missing, updateBytesFor(MAX));
    expect(oversized).toEqual([]);
    expect(pieces.length).toBeGreaterThan(2);
    const repaired = await produce(station, { producer: "p", messages: pieces.map((piece, i) => ({ seq: 4 + i, body: encodeBinaryBody(piece) })) });
    expect(repaired.status, JSON.stringify(repaired.body)).toBe(200);
    expect(repaired.body.results.every((r: { offset: number | null }) => r.offset !== null)).toBe(true);

    const whole = await readDoc(station);
    expect(textOf(whole.update)).toBe(text.toString());
    expect(canonicalState(whole.update)).toEqual(Y.encodeStateAsUpdate(doc));
    await runAlarmNow(station);
    const again = await readDoc(station);
    expect(again.snapshotOffset).toBe(whole.offset);
    expect(canonicalState(again.update)).toEqual(Y.encodeStateAsUpdate(doc));
  }, 30_000);
});
