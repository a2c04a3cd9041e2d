// Consumer groups of a station: leases with long-poll fetch, acks, nacks, lease extension,
// dead-lettering by the consumer, seek, per-group settings, WebSocket subscribers with credit,
// and the alarm task that ends leases (service.ts runs them; the SQL lives beside it). The
// Worker's partitioned fetch and subscribe (worker/partitions/) speak the same frames and JSON.
export { type FetchAnswer, GroupService, type LeasedShare, type ResendRoute } from "./service";
export { messageJson, messagesJson } from "./message-json";
export { type OwnOffsets, ownOffsets } from "./own-refs";
export { parseFrame, sendError, sendFrame, sendMessages } from "./sockets";
export { subscribeRequest } from "./subscribe-request";
