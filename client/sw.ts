// The `waystation/sw` entry: sync with no tab open. The page registers the service worker and
// hands it the outbox (registerSyncWorker); the service worker syncs it (installSyncWorker).
export { forgetSyncWorkerOutbox, registerSyncWorker, type SyncWorkerHandle, type SyncWorkerRegistrationOptions } from "./sw/register";
export { installSyncWorker, type OutboxOutcome, type SyncWorker, type SyncWorkerOptions, type SyncWorkerScope } from "./sw/worker";
export { lastRuns as syncWorkerRuns, type SyncRun } from "./sw/registrations";
export { PERIODIC_SYNC_TAG, SYNC_TAG, type OutboxRegistration } from "./sw/protocol";
