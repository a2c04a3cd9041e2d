// The station's log: produce (batches prepared at the edge, rulings per producer seq, the dedup
// window, admission by rate and quota), the messages themselves (append, read, replay from the
// archive, delayed visibility), retention, the station's own record and its storage counters.
export { StationAdmission } from "./admission";
export { encodeMessage, type PreparedBatch, type PreparedMessage, refusedMessage } from "./batch";
export { nextIdExpiry, pruneExpiredIds } from "./dedup";
export { countDelayed, nextVisibleAt } from "./messages";
export { produceBatch } from "./produce";
export { ProducerSeqs } from "./producers";
export { readPage, readReplay } from "./replay";
export { enforceRetention, retentionDueAt } from "./retention";
export { StationRecord } from "./record";
export { type MessageColumns, toMessage } from "./rows";
export { answerRuledBatch } from "./rulings";
export { bytesBesideLog, countEvicted, migrateStorageUsage, readStorageUsage } from "./storage-usage";
export { countThroughput, deliveredTotal, readThroughput } from "./throughput";
