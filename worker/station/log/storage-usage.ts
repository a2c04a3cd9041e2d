// What a station stores beside its log's message bytes, for the storage quota: message ids (in
// the log and in the dedup window), dead letters, kept copies (for groups and webhook
// endpoints), producer ids, refusals and a doc station's snapshot. SQLite
// triggers keep running counters in one row, so every path that writes those tables — whoever
// owns it — is counted, and the produce path reads one row instead of summing tables.
import { applyMigrations, type Migrations } from "../../storage/migrations";

/** Bytes of a TEXT value as stored (UTF-8), 0 for NULL. SQLite's length() counts characters. */
const octets = (column: string) => `coalesce(length(CAST(${column} AS BLOB)), 0)`;
/** What one dead letter or kept copy counts: the message's bytes (body, headers, key) and its id. */
const letterBytes = (row: "NEW" | "OLD") => `${row}.bytes + ${octets(`${row}.msg_id`)} + ${octets(`${row}.detail`)}`;
const keptBytes = (row: "NEW" | "OLD") => `${row}.bytes + ${octets(`${row}.msg_id`)}`;

function counted(name: string, table: string, when: string | null, column: string, insert: string, remove: string): string {
  const guardNew = when ? ` WHEN ${when.replaceAll("ROW", "NEW")}` : "";
  const guardOld = when ? ` WHEN ${when.replaceAll("ROW", "OLD")}` : "";
  return `CREATE TRIGGER ${name}_in AFTER INSERT ON ${table}${guardNew} BEGIN
      UPDATE storage_usage SET ${column} = ${column} + (${insert}) WHERE id = 1; END;
    CREATE TRIGGER ${name}_out AFTER DELETE ON ${table}${guardOld} BEGIN
      UPDATE storage_usage SET ${column} = ${column} - (${remove}) WHERE id = 1; END;`;
}

/**
 * The `storage` part of the station's schema: run after every other part (its triggers name
 * their tables). Each step backfills what was stored before it, so an existing station counts
 * from its first run on the new code. Never edit a shipped step: append.
 */
const STORAGE_MIGRATIONS: Migrations = {
  storage: [
    `CREATE TABLE storage_usage (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      log_id_bytes INTEGER NOT NULL,
      dedup_bytes INTEGER NOT NULL,
      dead_letters INTEGER NOT NULL,
      dead_letter_bytes INTEGER NOT NULL,
      dead_letters_evicted INTEGER NOT NULL,
      kept_bytes INTEGER NOT NULL,
      producer_bytes INTEGER NOT NULL,
      refusal_bytes INTEGER NOT NULL
    );
    INSERT INTO storage_usage VALUES (1,
      (SELECT coalesce(sum(${octets("msg_id")}), 0) FROM messages),
      (SELECT coalesce(sum(${octets("msg_id")}), 0) FROM dedup_ids),
      (SELECT count(*) FROM dead_letters),
      (SELECT coalesce(sum(bytes + ${octets("msg_id")} + ${octets("detail")}), 0) FROM dead_letters),
      0,
      (SELECT coalesce(sum(bytes + ${octets("msg_id")}), 0) FROM kept_messages),
      (SELECT coalesce(sum(${octets("producer")}), 0) FROM producers),
      0);
    ${counted("messages_ids", "messages", "ROW.msg_id IS NOT NULL", "log_id_bytes", octets("NEW.msg_id"), octets("OLD.msg_id"))}
    ${counted("dedup_ids", "dedup_ids", null, "dedup_bytes", octets("NEW.msg_id"), octets("OLD.msg_id"))}
    ${counted("dead_letter_bytes", "dead_letters", null, "dead_letter_bytes", letterBytes("NEW"), letterBytes("OLD"))}
    ${counted("dead_letter_count", "dead_letters", null, "dead_letters", "1", "1")}
    ${counted("kept_messages", "kept_messages", null, "kept_bytes", keptBytes("NEW"), keptBytes("OLD"))}
    ${counted("producers", "producers", null, "producer_bytes", octets("NEW.producer"), octets("OLD.producer"))}`,
  ],
};

/** Refusals of sequenced producers (worker/station/log/rulings.ts) count their own `bytes` column. */
const REFUSALS_STEP = `UPDATE storage_usage SET refusal_bytes = (SELECT coalesce(sum(bytes), 0) FROM refusals) WHERE id = 1;
    ${counted("refusals", "refusals", null, "refusal_bytes", "NEW.bytes", "OLD.bytes")}`;

/** A webhook queue row holds a copy of its message when a dead letter came back to it (an
 *  upsert may set it on an existing row, hence the UPDATE trigger). */
const WEBHOOK_COPIES_STEP = `ALTER TABLE storage_usage ADD COLUMN webhook_copy_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE storage_usage SET webhook_copy_bytes = (SELECT coalesce(sum(${octets("message")}), 0) FROM webhook_queue) WHERE id = 1;
    ${counted("webhook_copies", "webhook_queue", "ROW.message IS NOT NULL", "webhook_copy_bytes", octets("NEW.message"), octets("OLD.message"))}
    CREATE TRIGGER webhook_copies_set AFTER UPDATE OF message ON webhook_queue BEGIN
      UPDATE storage_usage SET webhook_copy_bytes = webhook_copy_bytes + ${octets("NEW.message")} - ${octets("OLD.message")} WHERE id = 1; END;`;

/** A doc station's merged snapshot (worker/station/documents/snapshot.ts): compaction moves updates
 *  out of the log into it, so without it a doc's growth would escape the quota. */
const DOC_SNAPSHOT_STEP = `ALTER TABLE storage_usage ADD COLUMN doc_snapshot_bytes INTEGER NOT NULL DEFAULT 0;
    UPDATE storage_usage SET doc_snapshot_bytes = (SELECT coalesce(sum(length(data)), 0) FROM doc_snapshot_chunks) WHERE id = 1;
    ${counted("doc_snapshot", "doc_snapshot_chunks", null, "doc_snapshot_bytes", "length(NEW.data)", "length(OLD.data)")}`;

/** Creates or updates the counters and their triggers; call after every other part's migrations. */
export function migrateStorageUsage(sql: SqlStorage): void {
  applyMigrations(sql, { storage: [...STORAGE_MIGRATIONS.storage!, REFUSALS_STEP, WEBHOOK_COPIES_STEP, DOC_SNAPSHOT_STEP] });
}

export interface StorageUsage {
  /** Ids of messages in the log (the log's own `bytes` count body, headers and key). */
  logIdBytes: number;
  /** Ids remembered for the dedup window: a second copy of each. */
  dedupBytes: number;
  deadLetters: number;
  /** Dead letters: message bytes, ids and details. */
  deadLetterBytes: number;
  /** Dead letters dropped, oldest first, to keep the DLS within its bound (ever, never decreases). */
  deadLettersEvicted: number;
  /** Copies of trimmed messages kept for a group (resent dead letters). */
  keptBytes: number;
  producerBytes: number;
  refusalBytes: number;
  /** Copies of messages queued again for a webhook endpoint (resent dead letters). */
  webhookCopyBytes: number;
  /** A doc station's merged snapshot. */
  docSnapshotBytes: number;
}

interface UsageRow {
  log_id_bytes: number;
  dedup_bytes: number;
  dead_letters: number;
  dead_letter_bytes: number;
  dead_letters_evicted: number;
  kept_bytes: number;
  producer_bytes: number;
  refusal_bytes: number;
  webhook_copy_bytes: number;
  doc_snapshot_bytes: number;
  [column: string]: SqlStorageValue;
}

export function readStorageUsage(sql: SqlStorage): StorageUsage {
  const row = sql.exec<UsageRow>("SELECT * FROM storage_usage WHERE id = 1").one();
  return {
    logIdBytes: row.log_id_bytes,
    dedupBytes: row.dedup_bytes,
    deadLetters: row.dead_letters,
    deadLetterBytes: row.dead_letter_bytes,
    deadLettersEvicted: row.dead_letters_evicted,
    keptBytes: row.kept_bytes,
    producerBytes: row.producer_bytes,
    refusalBytes: row.refusal_bytes,
    webhookCopyBytes: row.webhook_copy_bytes,
    docSnapshotBytes: row.doc_snapshot_bytes,
  };
}

/** Every byte the quota counts beyond the log's own `bytes` column, in one point read. */
export function bytesBesideLog(sql: SqlStorage): number {
  return sql
    .exec<{ n: number }>(
      `SELECT log_id_bytes + dedup_bytes + dead_letter_bytes + kept_bytes + producer_bytes + refusal_bytes + webhook_copy_bytes + doc_snapshot_bytes AS n
       FROM storage_usage WHERE id = 1`,
    )
    .one().n;
}

/** Counts `n` dead letters dropped to keep the DLS within its bound. */
export function countEvicted(sql: SqlStorage, n: number): void {
  sql.exec("UPDATE storage_usage SET dead_letters_evicted = dead_letters_evicted + ? WHERE id = 1", n);
}
