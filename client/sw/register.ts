// The page's side: registers the sync service worker, hands it the outbox to sync (database,
// server, and a token or a token endpoint), and asks for a Background Sync whenever the page's
// client has actions pending — so they still go out after the last tab is closed.
import { errorFromWire, WaystationError } from "../errors";
import type { Client } from "../index";
import { checkRegistration, normalizeUrl, type OutboxRegistration, PERIODIC_SYNC_TAG, type PageMessage, SYNC_TAG, type WorkerReply } from "./protocol";

export interface SyncWorkerRegistrationOptions {
  /** The server, as given to createClient. */
  url: string;
  /** The client's IndexedDB database; default `waystation`, as createClient. */
  dbName?: string;
  /** A token the service worker keeps in IndexedDB and sends as is (give this or `tokenUrl`). */
  token?: string;
  /**
   * The app's token endpoint, fetched by the service worker with the browser's cookies whenever it
   * needs a token (and again on a 401); it answers `{"token": "…"}` or the token as text.
   */
  tokenUrl?: string;
  /** The service worker script; default `/waystation-sw.js`, which the Waystation worker serves. */
  scriptUrl?: string;
  /** Its scope; default the script's folder. */
  scope?: string;
  /** The page's client: while it has actions pending, ask for a Background Sync (and keep the service worker standing by). */
  client?: Pick<Client, "on" | "status">;
  /** Periodic Background Sync's minimum interval, where the browser granted it; default 12 hours. */
  periodicSyncMinIntervalMs?: number;
  /** Default `navigator.serviceWorker`. */
  container?: ServiceWorkerContainer;
}

/** The registered service worker, and what this browser can do with it. */
export interface SyncWorkerHandle {
  registration: ServiceWorkerRegistration;
  /** The browser has Background Sync (Chromium): a sync is asked for whenever actions are pending. */
  backgroundSync: boolean;
  /** Periodic Background Sync was granted (an installed app, in Chromium) and registered. */
  periodicSync: boolean;
  /** Asks for a sync now: a Background Sync registration where there is one, and a message to the worker. */
  requestSync(): Promise<void>;
  /** Hands the worker a new token (or token endpoint), e.g. after a refresh. */
  configure(auth: { token?: string; tokenUrl?: string }): Promise<void>;
  /** The worker forgets this outbox and its token (logout); it syncs it no more until configured again. */
  forget(): Promise<void>;
  /** Stops watching the client (the worker keeps the registration). */
  close(): void;
}

type SyncCapable = ServiceWorkerRegistration & {
  sync?: { register(tag: string): Promise<void> };
  periodicSync?: { register(tag: string, options: { minInterval: number }): Promise<void> };
};

/** Pending actions ask for a sync at most this often (each asks the browser and wakes the worker). */
const REQUEST_EVERY_MS = 2000;

/**
 * Registers the sync service worker for one outbox. Resolves null where the browser has no
 * service workers (the tabs still sync, as always).
 *
 * @example
 * const client = createClient({ url: location.origin, token });
 * await registerSyncWorker({ url: location.origin, token, client });
 */
export async function registerSyncWorker(options: SyncWorkerRegistrationOptions): Promise<SyncWorkerHandle | null> {
  const container = options.container ?? (typeof navigator !== "undefined" ? navigator.serviceWorker : undefined);
  if (!container) return null;
  const base = globalThis.location?.href;
  let outbox: OutboxRegistration = checkRegistration({ url: options.url, dbName: options.dbName, token: options.token, tokenUrl: options.tokenUrl }, base);
  const registration = (await container.register(options.scriptUrl ?? "/waystation-sw.js", options.scope === undefined ? {} : { scope: options.scope })) as SyncCapable;
  // The active worker now (an update may replace the one we first talked to).
  const worker = async () => registration.active ?? (await activeWorker(registration));
  await ask(await worker(), { type: "waystation:configure", outbox });

  const backgroundSync = typeof registration.sync?.register === "function";
  const periodicSync = await registerPeriodicSync(registration, options.periodicSyncMinIntervalMs ?? 12 * 60 * 60 * 1000);
  let lastRequest = -Infinity;
  const requestSync = async () => {
    lastRequest = Date.now();
    // Chromium fires `sync` when it deems the device online, and again with backoff while the worker's sync fails.
    if (backgroundSync) await registration.sync!.register(SYNC_TAG).catch(() => {});
    // Everywhere: wake the worker, which waits for the tabs' lock and syncs once the last tab is gone.
    (await worker()).postMessage({ type: "waystation:sync" } satisfies PageMessage);
  };
  const onStatus = (status: { pending: number }) => {
    if (status.pending > 0 && Date.now() - lastRequest >= REQUEST_EVERY_MS) void requestSync();
  };
  const stop = options.client?.on("status", onStatus);
  if (options.client) onStatus(options.client.status);
  const onHidden = () => {
    // Leaving (or hidden, maybe for good) with actions pending: make sure a sync is asked for.
    if (document.visibilityState === "hidden" && (options.client?.status.pending ?? 0) > 0) void requestSync();
  };
  globalThis.document?.addEventListener("visibilitychange", onHidden);

  return {
    registration,
    backgroundSync,
    periodicSync,
    requestSync,
    async configure(auth) {
      outbox = checkRegistration({ url: outbox.url, dbName: outbox.dbName, ...auth }, base);
      await ask(await worker(), { type: "waystation:configure", outbox });
    },
    async forget() {
      await ask(await worker(), { type: "waystation:forget", url: outbox.url, dbName: outbox.dbName });
    },
    close() {
      stop?.();
      globalThis.document?.removeEventListener("visibilitychange", onHidden);
    },
  };
}

/**
 * Forgets an outbox in the service worker without registering it (e.g. at logout, on a page that
 * never called registerSyncWorker). Resolves false where no sync worker is active.
 */
export async function forgetSyncWorkerOutbox(url: string, dbName = "waystation", container = globalThis.navigator?.serviceWorker): Promise<boolean> {
  const registration = await container?.getRegistration();
  const worker = registration?.active;
  if (!worker) return false;
  await ask(worker, { type: "waystation:forget", url: normalizeUrl(url, globalThis.location?.href), dbName });
  return true;
}

/** The registration's worker once it is activated (a fresh install takes a moment). */
function activeWorker(registration: ServiceWorkerRegistration): Promise<ServiceWorker> {
  if (registration.active) return Promise.resolve(registration.active);
  const pending = (registration.installing ?? registration.waiting)!;
  return new Promise((resolve, reject) => {
    pending.addEventListener("statechange", () => {
      if (pending.state === "activated") resolve(pending);
      else if (pending.state === "redundant") reject(new WaystationError("unavailable", "The sync service worker failed to install"));
    });
  });
}

/** How long the worker may take to answer a message (it answers before it syncs). */
const ANSWER_TIMEOUT_MS = 10_000;

/** Posts a message and waits for the worker's answer on a channel of its own. */
function ask(worker: ServiceWorker, message: PageMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => {
      channel.port1.close();
      reject(new WaystationError("unavailable", `The sync service worker did not answer ${message.type} within ${ANSWER_TIMEOUT_MS} ms`));
    }, ANSWER_TIMEOUT_MS);
    channel.port1.onmessage = (event: MessageEvent<WorkerReply>) => {
      clearTimeout(timer);
      channel.port1.close();
      if (event.data.ok) resolve();
      else reject(errorFromWire(event.data.error));
    };
    worker.postMessage(message, [channel.port2]);
  });
}

async function registerPeriodicSync(registration: SyncCapable, minInterval: number): Promise<boolean> {
  if (typeof registration.periodicSync?.register !== "function") return false;
  try {
    const permission = await navigator.permissions.query({ name: "periodic-background-sync" as PermissionName });
    if (permission.state !== "granted") return false;
    await registration.periodicSync.register(PERIODIC_SYNC_TAG, { minInterval });
    return true;
  } catch {
    return false;
  }
}
