// The Station object's SQLite schema and its migrations, in one place. Each part of the
// station (log, groups, webhooks…) has its own ordered list; a migration runs once, in
// order, in the object's constructor, and `schema_versions` records how far each part got.
// Never edit a shipped migration: append a new one.
import { applyMigrations, type Migrations } from "../storage/migrations";
import { migrateArchive } from "./archive/index";
import { migrateStorageUsage } from "./log/storage-usage";

const MIGRATIONS: Migrations = {
  log: [
    `CREATE TABLE station (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      name TEXT NOT NULL,
      config TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      next_offset INTEGER NOT NULL,
      first_offset INTEGER NOT NULL,
      message_count INTEGER NOT NULL,
      byte_count INTEGER NOT NULL,
      produced_count INTEGER NOT NULL
    );
    CREATE TABLE messages (
      msg_offset INTEGER PRIMARY KEY,
      producer TEXT,
      seq INTEGER,
      msg_id TEXT,
      msg_key TEXT,
      headers TEXT,
      body TEXT NOT NULL,
      produced_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX messages_by_producer_seq ON messages (producer, seq) WHERE seq IS NOT NULL;
    CREATE TABLE producers (
      producer TEXT PRIMARY KEY,
      last_seq INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE dedup_ids (
      msg_id TEXT PRIMARY KEY,
      msg_offset INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX dedup_ids_by_expiry ON dedup_ids (expires_at);`,
    // Delayed messages (`delayMs`): when groups and webhooks may first see one; NULL for the
    // rest (visible at once). Indexed for the alarm (the earliest) and the stats (how many wait).
    `ALTER TABLE messages ADD COLUMN visible_at INTEGER;
    CREATE INDEX messages_by_visible_at ON messages (visible_at) WHERE visible_at IS NOT NULL;`,
    // Delayed messages by offset: a group's hand-out finds those ahead of its cursor without
    // reading the visible ones in between (worker/station/groups/leases.ts).
    `CREATE INDEX messages_delayed_by_offset ON messages (msg_offset) WHERE visible_at IS NOT NULL;`,
  ],
  // The recent-throughput ring and the delivered total (worker/station/log/throughput.ts).
  throughput: [
    `CREATE TABLE throughput (
      bucket_at INTEGER PRIMARY KEY,
      produced INTEGER NOT NULL,
      delivered INTEGER NOT NULL
    );
    CREATE TABLE throughput_totals (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      delivered INTEGER NOT NULL
    );`,
  ],
  // Collaborative documents: the merged snapshot of a doc station, chunked under the 2 MB
  // row limit, and the offset it covers (worker/station/documents/snapshot.ts).
  docs: [
    `CREATE TABLE doc_snapshot (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      covers_offset INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      chunks INTEGER NOT NULL,
      compactions INTEGER NOT NULL,
      compacted_at INTEGER NOT NULL
    );
    CREATE TABLE doc_snapshot_chunks (
      chunk INTEGER PRIMARY KEY,
      data BLOB NOT NULL
    );`,
  ],
  // Consumer groups (worker/station/groups/): a cursor per group, one row per message handed
  // out and not yet acked or dead-lettered (leased, or waiting to go out again), and copies of
  // messages owed to a group after retention trimmed them from the log (resent dead letters).
  groups: [
    `CREATE TABLE groups (
      name TEXT PRIMARY KEY,
      next_offset INTEGER NOT NULL,
      start TEXT NOT NULL,
      ack_timeout_ms INTEGER,
      max_deliveries INTEGER,
      delivered INTEGER NOT NULL,
      acked INTEGER NOT NULL,
      dead_lettered INTEGER NOT NULL,
      discarded INTEGER NOT NULL,
      skipped INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE deliveries (
      group_name TEXT NOT NULL,
      msg_offset INTEGER NOT NULL,
      consumer TEXT,
      lease_until INTEGER,
      deliveries INTEGER NOT NULL,
      available_at INTEGER NOT NULL,
      PRIMARY KEY (group_name, msg_offset)
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_by_lease ON deliveries (lease_until) WHERE lease_until IS NOT NULL;
    CREATE INDEX deliveries_ready ON deliveries (group_name, msg_offset) WHERE consumer IS NULL;
    CREATE INDEX deliveries_by_available ON deliveries (available_at) WHERE consumer IS NULL;
    CREATE TABLE kept_messages (
      group_name TEXT NOT NULL,
      msg_offset INTEGER NOT NULL,
      producer TEXT,
      seq INTEGER,
      msg_id TEXT,
      msg_key TEXT,
      headers TEXT,
      body TEXT NOT NULL,
      produced_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      PRIMARY KEY (group_name, msg_offset)
    ) WITHOUT ROWID;`,
    // The consumers each group has seen (fetch or subscribe), the most recent few per group
    // (worker/station/groups/consumers-seen.ts).
    `CREATE TABLE group_consumers (
      group_name TEXT NOT NULL,
      consumer TEXT NOT NULL,
      first_seen_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL,
      PRIMARY KEY (group_name, consumer)
    ) WITHOUT ROWID;`,
    // Delayed messages and moving a group (seek): kept copies carry the message's visible_at
    // like the log; each group counts the times it was moved (its epoch) and each delivery the
    // epoch it was handed out in, so an ack of a lease dropped by a seek can be told apart.
    `ALTER TABLE kept_messages ADD COLUMN visible_at INTEGER;
    ALTER TABLE groups ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE deliveries ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;`,
  ],
  // The dead-letter station (worker/station/dead-letters.ts): each letter keeps its message.
  dead_letters: [
    `CREATE TABLE dead_letters (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      msg_offset INTEGER,
      group_name TEXT,
      reason TEXT NOT NULL,
      deliveries INTEGER NOT NULL,
      producer TEXT,
      seq INTEGER,
      msg_id TEXT,
      msg_key TEXT,
      headers TEXT,
      body TEXT NOT NULL,
      produced_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      detail TEXT,
      dead_at INTEGER NOT NULL
    );
    CREATE INDEX dead_letters_by_group ON dead_letters (group_name, id);
    CREATE INDEX dead_letters_by_reason ON dead_letters (reason, id);`,
  ],
  // Webhook endpoints (worker/station/webhook-*.ts): config, secrets, cursor and health per
  // endpoint; the messages taken and not yet done, with their attempts and next attempt time
  // (a copy of the message when it came back from the DLS); a bounded log of recent attempts.
  webhooks: [
    `CREATE TABLE webhooks (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL UNIQUE,
      options TEXT NOT NULL,
      secret TEXT NOT NULL,
      previous_secret TEXT,
      previous_secret_expires_at INTEGER,
      enabled INTEGER NOT NULL,
      disabled_at INTEGER,
      disabled_reason TEXT,
      next_offset INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      last_status INTEGER,
      last_error TEXT,
      last_attempt_at INTEGER,
      last_success_at INTEGER,
      consecutive_failures INTEGER NOT NULL,
      failing_since INTEGER,
      delivered INTEGER NOT NULL,
      dead_lettered INTEGER NOT NULL
    );
    CREATE TABLE webhook_queue (
      webhook_id INTEGER NOT NULL,
      msg_offset INTEGER NOT NULL,
      attempts INTEGER NOT NULL,
      next_attempt_at INTEGER NOT NULL,
      message TEXT,
      PRIMARY KEY (webhook_id, msg_offset)
    ) WITHOUT ROWID;
    CREATE TABLE webhook_attempts (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      webhook_id INTEGER NOT NULL,
      msg_offset INTEGER NOT NULL,
      attempt INTEGER NOT NULL,
      at INTEGER NOT NULL,
      status INTEGER,
      error TEXT,
      duration_ms INTEGER NOT NULL,
      outcome TEXT NOT NULL
    );
    CREATE INDEX webhook_attempts_by_webhook ON webhook_attempts (webhook_id, id);`,
  ],
  // Rulings of sequenced producers (worker/station/log/rulings.ts): the seqs the station refused,
  // each consumed for good with its code and details (a resend gets the same answer), and the
  // action id it was ruled for. Dead letters are looked up by (producer, seq) to answer resends.
  rulings: [
    `CREATE TABLE refusals (
      producer TEXT NOT NULL,
      seq INTEGER NOT NULL,
      code TEXT NOT NULL,
      message TEXT NOT NULL,
      details TEXT,
      action_id TEXT,
      ruled_at INTEGER NOT NULL,
      bytes INTEGER NOT NULL,
      PRIMARY KEY (producer, seq)
    ) WITHOUT ROWID;
    CREATE INDEX dead_letters_by_producer_seq ON dead_letters (producer, seq) WHERE seq IS NOT NULL;`,
  ],
  // The version of the station's schema each message was checked against (NULL: no schema then),
  // read back as `schemaVersion`. Kept copies of messages (groups) share the log's columns.
  // Which partition of its station this object is (0 unless the station is partitioned).
  partition: [`ALTER TABLE station ADD COLUMN partition INTEGER NOT NULL DEFAULT 0;`],
  message_schema: [
    `ALTER TABLE messages ADD COLUMN schema_version INTEGER;
    ALTER TABLE kept_messages ADD COLUMN schema_version INTEGER;`,
  ],
};

export function migrate(sql: SqlStorage): void {
  applyMigrations(sql, MIGRATIONS);
  migrateArchive(sql);
  // Last: its triggers count the tables above for the storage quota (log/storage-usage.ts).
  migrateStorageUsage(sql);
}
