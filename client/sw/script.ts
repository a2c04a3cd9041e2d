// The ready-made service worker the Waystation worker serves at /waystation-sw.js: the sync
// handlers and nothing else (an app with a service worker of its own calls installSyncWorker in it).
import { installSyncWorker } from "./worker";

installSyncWorker();
