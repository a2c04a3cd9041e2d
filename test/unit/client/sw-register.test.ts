// The page's side of the sync service worker (client/sw/register.ts) against a stand-in service
// worker container: it hands the worker the outbox, and asks for a Background Sync (and wakes the
// worker) whenever the client has actions pending.
import { describe, expect, it } from "vitest";
import type { Status } from "../../../client/index";
import { SYNC_TAG } from "../../../client/sw/protocol";
import { registerSyncWorker } from "../../../client/sw/register";

function fakeContainer(answer: (message: { type: string }) => unknown = () => ({ ok: true })) {
  const posted: { type: string; outbox?: unknown }[] = [];
  const tags: string[] = [];
  const active = {
    postMessage(message: { type: string }, ports?: MessagePort[]) {
      posted.push(message);
      ports?.[0]?.postMessage(answer(message));
    },
  };
  const registration = { active, sync: { register: async (tag: string) => void tags.push(tag) } };
  const container = { register: async () => registration } as unknown as ServiceWorkerContainer;
  return { container, posted, tags };
}

function fakeClient() {
  const listeners: ((s: Status) => void)[] = [];
  const client = {
    status: { state: "idle", pending: 0, stations: {}, deadLetters: 0, leader: true } as Status,
    on: (_event: string, listener: (s: Status) => void) => (listeners.push(listener), () => listeners.splice(listeners.indexOf(listener), 1)),
  };
  const emit = (pending: number) => {
    client.status = { ...client.status, pending };
    for (const l of listeners) l(client.status);
  };
  return { client: client as never, emit };
}

describe("registerSyncWorker", () => {
  it("hands the worker the outbox as the client keys it, and asks for a sync when actions are pending", async () => {
    const { container, posted, tags } = fakeContainer();
    const { client, emit } = fakeClient();
    const handle = await registerSyncWorker({ url: "http://waystation.test/", token: "t", client, container });
    expect(handle?.backgroundSync).toBe(true);
    expect(posted).toEqual([{ type: "waystation:configure", outbox: { url: "http://waystation.test", dbName: "waystation", token: "t" } }]);
    expect(tags).toEqual([]); // nothing pending yet
    emit(3);
    await new Promise((r) => setTimeout(r, 10));
    expect(tags).toEqual([SYNC_TAG]);
    expect(posted.at(-1)).toEqual({ type: "waystation:sync" });
    emit(4); // within 2 s of the last request: the same request stands
    await new Promise((r) => setTimeout(r, 10));
    expect(tags).toEqual([SYNC_TAG]);
    await handle!.forget();
    expect(posted.at(-1)).toEqual({ type: "waystation:forget", url: "http://waystation.test", dbName: "waystation" });
    handle!.close();
  });

  it("rejects with the worker's coded error, refuses a registration without a token, and is null without service workers", async () => {
    const { container } = fakeContainer(() => ({ ok: false, error: { code: "storage_error", message: "disk" } }));
    await expect(registerSyncWorker({ url: "http://waystation.test", token: "t", container })).rejects.toMatchObject({ code: "storage_error" });
    await expect(registerSyncWorker({ url: "http://waystation.test", container: fakeContainer().container })).rejects.toMatchObject({ code: "invalid_request" });
    expect(await registerSyncWorker({ url: "http://waystation.test", token: "t" })).toBeNull(); // Node: no navigator.serviceWorker
  });
});
