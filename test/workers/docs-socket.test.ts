// The live doc socket: produced updates are pushed to every socket, awareness is relayed to
// the others (and retired when a socket closes), and the token may ride as a subprotocol.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import * as Y from "yjs";
import { decodeBinaryBody } from "../../shared/binary";
import { webSocketProtocols } from "../../shared/websocket-auth";
import { createDocStation, produceUpdates, recordingDoc } from "./docs-helpers";
import { ADMIN_TOKEN, api, createStation } from "./helpers";

interface OpenSocket {
  socket: WebSocket;
  response: Response;
  /** Resolves with the next frame matching `type`, waiting if none arrived yet. */
  next(type: string): Promise<any>;
  frames: any[];
}

async function connect(station: string, auth: "header" | "protocol" = "header"): Promise<OpenSocket> {
  const headers: Record<string, string> = { upgrade: "websocket" };
  if (auth === "header") headers.authorization = `Bearer ${ADMIN_TOKEN}`;
  else headers["sec-websocket-protocol"] = webSocketProtocols(ADMIN_TOKEN).join(", ");
  const response: Response = await (exports as any).default.fetch(new Request(`https://waystation.test/v1/stations/${station}/doc/subscribe`, { headers }));
  if (response.status !== 101) throw new Error(`subscribe: ${response.status} ${await response.text()}`);
  const socket = response.webSocket!;
  socket.accept();
  const frames: any[] = [];
  const waiters: { type: string; resolve: (frame: any) => void }[] = [];
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(event.data as string);
    const waiter = waiters.findIndex((w) => w.type === frame.type);
    if (waiter >= 0) waiters.splice(waiter, 1)[0]!.resolve(frame);
    else frames.push(frame);
  });
  const next = (type: string) => {
    const index = frames.findIndex((f) => f.type === type);
    if (index >= 0) return Promise.resolve(frames.splice(index, 1)[0]);
    return new Promise<any>((resolve) => waiters.push({ type, resolve }));
  };
  return { socket, response, next, frames };
}

describe("doc socket", () => {
  it("greets with the log's offset and pushes every produced batch to every socket", async () => {
    const station = await createDocStation();
    const { doc, updates } = recordingDoc();
    doc.getText("t").insert(0, "one");
    await produceUpdates(station, "p", updates.slice(0, 1));
    const a = await connect(station);
    const b = await connect(station);
    expect(await a.next("hello")).toEqual({ type: "hello", offset: 1 });
    expect((await b.next("hello")).offset).toBe(1);

    doc.getText("t").insert(3, " two");
    doc.getText("t").insert(7, " three");
    await produceUpdates(station, "p", updates.slice(1), 2);
    for (const s of [a, b]) {
      const frame = await s.next("update");
      expect(frame).toMatchObject({ from: 2, offset: 3 });
      const replica = new Y.Doc();
      Y.applyUpdate(replica, updates[0]!);
      Y.applyUpdate(replica, decodeBinaryBody(frame.update)!);
      expect(replica.getText("t").toString()).toBe("one two three");
    }
    a.socket.close();
    b.socket.close();
  });

  it("relays awareness to the other sockets only, greets newcomers with it, and retires it on close", async () => {
    const station = await createDocStation();
    const a = await connect(station);
    const b = await connect(station);
    await Promise.all([a.next("hello"), b.next("hello")]);
    a.socket.send(JSON.stringify({ type: "awareness", states: [{ clientID: 11, clock: 1, state: { cursor: 4, name: "ada" } }] }));
    expect(await b.next("awareness")).toEqual({ type: "awareness", states: [{ clientID: 11, clock: 1, state: { cursor: 4, name: "ada" } }] });

    const c = await connect(station);
    expect((await c.next("awareness")).states).toEqual([{ clientID: 11, clock: 1, state: { cursor: 4, name: "ada" } }]);

    a.socket.close(1000, "bye");
    expect(await b.next("awareness")).toEqual({ type: "awareness", states: [{ clientID: 11, clock: 2, state: null }] });
    expect(a.frames.filter((f) => f.type === "awareness")).toEqual([]);
    b.socket.close();
    c.socket.close();
  });

  it("answers a frame that does not fit with an error frame and keeps the socket", async () => {
    const station = await createDocStation();
    const a = await connect(station);
    a.socket.send("{not json");
    expect((await a.next("error")).error.code).toBe("invalid_json");
    a.socket.send(JSON.stringify({ type: "awareness", states: [] }));
    expect((await a.next("error")).error.code).toBe("invalid_request");
    a.socket.close();
  });

  it("takes the token as a subprotocol and selects the waystation protocol", async () => {
    const station = await createDocStation();
    const a = await connect(station, "protocol");
    expect(a.response.headers.get("sec-websocket-protocol")).toBe("waystation");
    expect((await a.next("hello")).offset).toBe(0);
    a.socket.close();
  });

  it("refuses a log station, a plain GET and a missing token", async () => {
    const log = await createStation();
    const upgrade = { upgrade: "websocket", authorization: `Bearer ${ADMIN_TOKEN}` };
    const refused: Response = await (exports as any).default.fetch(new Request(`https://waystation.test/v1/stations/${log}/doc/subscribe`, { headers: upgrade }));
    expect(refused.status).toBe(409);
    expect((await refused.json<any>()).error.code).toBe("not_a_doc");
    const station = await createDocStation();
    const plain = await api("GET", `/v1/stations/${station}/doc/subscribe`);
    expect(plain.status).toBe(422);
    const anonymous = await api("GET", `/v1/stations/${station}/doc/subscribe`, undefined, { token: null, headers: { upgrade: "websocket" } });
    expect(anonymous.status).toBe(401);
  });
});
