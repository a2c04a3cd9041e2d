// Helpers for the security suites: WebSockets opened with a given token (subscribe or doc),
// whose frames, errors and close code a test can wait for; and the station object's instance.
import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";

export interface TestSocket {
  socket: WebSocket;
  frames: any[];
  /** The next frame of `type` (frames of other types before it are kept). */
  next(type: string, timeoutMs?: number): Promise<any>;
  send(frame: unknown): void;
  /** Resolves when the socket closed, with the server's code and reason. */
  closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
}

/** With `keepFrames: false` frames are only counted (a flood's relays would cost the test more than the station). */
export async function openSocket(path: string, token: string, keepFrames = true): Promise<TestSocket & { received(): number }> {
  const res: Response = await (exports as any).default.fetch(
    new Request(`https://waystation.test${path}`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
  );
  expect(res.status, res.status === 101 ? "" : await res.text()).toBe(101);
  const socket = res.webSocket!;
  socket.accept();
  const frames: any[] = [];
  const wakers: Array<() => void> = [];
  let closedFlag = false;
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.addEventListener("close", (event) => {
      closedFlag = true;
      wakers.splice(0).forEach((wake) => wake());
      resolve({ code: event.code, reason: event.reason });
    });
  });
  let received = 0;
  socket.addEventListener("message", (event) => {
    received += 1;
    if (!keepFrames) {
      const text = event.data as string;
      if (!text.startsWith('{"type":"error"')) return;
    }
    frames.push(JSON.parse(event.data as string));
    wakers.splice(0).forEach((wake) => wake());
  });
  const next = async (type: string, timeoutMs = 5000): Promise<any> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = frames.findIndex((f) => f.type === type);
      if (index >= 0) return frames.splice(index, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0 || closedFlag) throw new Error(`no ${type} frame within ${timeoutMs} ms; got ${JSON.stringify(frames)}`);
      await new Promise<void>((resolve) => {
        wakers.push(resolve);
        setTimeout(resolve, left);
      });
    }
  };
  const send = (frame: unknown) => {
    try {
      socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
    } catch {
      // closed meanwhile: the test looks at the close code
    }
  };
  return { socket, frames, next, send, closed, isClosed: () => closedFlag, received: () => received };
}

/** Waits for the close, failing after `timeoutMs`. */
export async function closeOf(socket: TestSocket, timeoutMs = 5000): Promise<{ code: number; reason: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms; frames ${JSON.stringify(socket.frames)}`)), timeoutMs);
  });
  try {
    return await Promise.race([socket.closed, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

export function stationObject(name: string): DurableObjectStub {
  const ns = (env as unknown as { STATION: DurableObjectNamespace }).STATION;
  return ns.get(ns.idFromName(name));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `work` inside the station's object, with its instance (to inspect or rotate its env). */
export function inStation<R>(name: string, work: (instance: any) => R | Promise<R>): Promise<R> {
  const run: (stub: unknown, fn: (instance: any) => unknown) => Promise<unknown> = runInDurableObject as any;
  return run(stationObject(name), work) as Promise<R>;
}
