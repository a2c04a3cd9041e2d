// A doc station's document on the wire: produce accepts only yjs updates, `GET|POST …/doc`
// answers the merged state (or what a state vector lacks), and the log still carries every
// update as an ordinary message for replay.
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { decodeBinaryBody, encodeBase64, encodeBinaryBody } from "../../shared/binary";
import { canonicalState, createDocStation, fetchBinaryDoc, produceUpdates, readDoc, recordingDoc, textOf } from "./docs-helpers";
import { api, createStation, produce, uniqueStation } from "./helpers";

describe("doc stations: produce", () => {
  // A batch without seq is refused whole; a sequenced one is ruled per message (rulings.test.ts).
  it("refuses a body that is not binary with 422 invalid_doc_update and stores nothing", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "a");
    const res = await produce(station, {
      messages: [{ body: encodeBinaryBody(updates[0]!) }, { body: { text: "not an update" } }],
    });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({ code: "invalid_doc_update", index: 1 });
    expect((await api("GET", `/v1/stations/${station}`)).body.stats).toMatchObject({ lastOffset: 0, messages: 0 });
  });

  it("refuses binary that is not a yjs update", async () => {
    const station = await createDocStation();
    const res = await produce(station, { messages: [{ body: encodeBinaryBody(new Uint8Array([7, 200, 1, 2])) }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_doc_update");
  });

  it("refuses $binary text that is not base64", async () => {
    const station = await createDocStation();
    const res = await produce(station, { messages: [{ body: { $binary: "not*base64!" } }] });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_doc_update");
  });

  it("replays doc updates as ordinary messages with binary bodies", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "hello");
    doc.getText("t").insert(5, " world");
    await produceUpdates(station, "p", updates);
    const res = await api("GET", `/v1/stations/${station}/messages?from=1`);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: any) => m.offset)).toEqual([1, 2]);
    const replayed = res.body.messages.map((m: any) => decodeBinaryBody(m.body)!);
    expect(replayed).toEqual(updates);
    expect(textOf(Y.mergeUpdates(replayed))).toBe("hello world");
  });
});

describe("doc stations: reading the document", () => {
  it("answers the merged state with its state vector and the offset it covers", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    const text = doc.getText("t");
    for (let i = 0; i < 30; i++) text.insert(text.length, `${i},`);
    doc.getMap("m").set("k", "v");
    await produceUpdates(station, "p", updates);
    const state = await readDoc(station);
    expect(state.offset).toBe(31);
    expect(state.snapshotOffset).toBe(0);
    expect(canonicalState(state.update)).toEqual(Y.encodeStateAsUpdate(doc));
    expect(state.stateVector).toEqual(Y.encodeStateVector(doc));
  });

  it("answers an empty document for a station with no updates", async () => {
    const station = await createDocStation();
    const state = await readDoc(station);
    expect(state.offset).toBe(0);
    expect(textOf(state.update)).toBe("");
  });

  it("answers only what a client lacks when it sends its state vector", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    const text = doc.getText("t");
    for (let i = 0; i < 50; i++) text.insert(text.length, `line ${i}\n`);
    await produceUpdates(station, "p", updates.slice(0, 40));
    const client = new Y.Doc();
    Y.applyUpdate(client, (await readDoc(station)).update);
    await produceUpdates(station, "p", updates.slice(40), 41);

    const full = await readDoc(station);
    const diff = await readDoc(station, Y.encodeStateVector(client));
    expect(diff.update.byteLength).toBeLessThan(full.update.byteLength);
    Y.applyUpdate(client, diff.update);
    expect(client.getText("t").toString()).toBe(text.toString());
  });

  it("takes the state vector as base64 (or base64url) in the query", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "abc");
    await produceUpdates(station, "p", updates);
    const vector = encodeBase64(Y.encodeStateVector(doc));
    const res = await api("GET", `/v1/stations/${station}/doc?stateVector=${encodeURIComponent(vector)}`);
    expect(res.status).toBe(200);
    // The client has everything: the diff is an empty update.
    expect(textOf(decodeBinaryBody(res.body.update)!)).toBe("");
    expect(decodeBinaryBody(res.body.stateVector)).toEqual(Y.encodeStateVector(doc));
  });

  it("answers the raw update with Accept: application/octet-stream", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "binary");
    await produceUpdates(station, "p", updates);
    const res = await fetchBinaryDoc(station);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("waystation-doc-offset")).toBe("1");
    expect(res.headers.get("waystation-doc-state-vector")).toBe(encodeBase64(Y.encodeStateVector(doc)));
    expect(textOf(new Uint8Array(await res.arrayBuffer()))).toBe("binary");
  });

  it("refuses a state vector that does not decode with 422", async () => {
    const station = await createDocStation();
    const res = await api("GET", `/v1/stations/${station}/doc?stateVector=${encodeBase64(new Uint8Array([5, 1]))}`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("invalid_request");
    const notBase64 = await api("GET", `/v1/stations/${station}/doc?stateVector=***`);
    expect(notBase64.status).toBe(422);
  });

  it("answers 409 not_a_doc for a log station and 404 for an unknown one", async () => {
    const log = await createStation();
    expect((await api("GET", `/v1/stations/${log}/doc`)).body.error.code).toBe("not_a_doc");
    expect((await api("GET", `/v1/stations/${log}/doc`)).status).toBe(409);
    const missing = await api("GET", `/v1/stations/${uniqueStation()}/doc`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("station_not_found");
  });

  it("needs the consume right", async () => {
    const station = await createDocStation();
    const res = await api("GET", `/v1/stations/${station}/doc`, undefined, { token: null });
    expect(res.status).toBe(401);
  });
});
