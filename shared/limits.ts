// Every bound the protocol puts on input, in one place. The worker enforces them; the SDK
// uses them to size its batches so that it never sends what the server would refuse.

const KiB = 1024;
const MiB = 1024 * KiB;

/** Most messages in one produce batch. */
export const MAX_BATCH_MESSAGES = 1000;
/** Most bytes in one produce request body (the JSON text as sent). */
export const MAX_PRODUCE_REQUEST_BYTES = 16 * MiB;
/** Most bytes in any other request body. */
export const MAX_REQUEST_BYTES = 256 * KiB;

/** Default bound on one message's encoded body (UTF-8 bytes of its JSON). */
export const DEFAULT_MAX_MESSAGE_BYTES = 1 * MiB;
/** Highest `maxMessageBytes` a station may ask for: a SQLite row caps at 2 MB, headers and key need room. */
export const MAX_MESSAGE_BYTES_LIMIT = 1_900_000;

/** Headers on one message: count, name length, value length, total encoded size. */
export const MAX_HEADERS = 64;
export const MAX_HEADER_NAME_LENGTH = 256;
export const MAX_HEADER_VALUE_LENGTH = 4 * KiB;
export const MAX_HEADERS_BYTES = 16 * KiB;

/** A message's partition/ordering key and its dedup id. */
export const MAX_KEY_LENGTH = 1024;
export const MAX_MESSAGE_ID_LENGTH = 256;

/** Replay reads. */
export const DEFAULT_READ_LIMIT = 100;
export const MAX_READ_LIMIT = 1000;
/** Most stored bytes one replay read or DLS page answers with (at least one message always
 *  goes, whatever its size); `nextOffset` / `next` say where to continue. */
export const MAX_READ_BYTES = 8 * MiB;

/** Dedup window for messages that carry `id` but no `seq`: like Memphis and JetStream, 2 minutes. */
export const DEFAULT_DEDUP_WINDOW_MS = 2 * 60 * 1000;
export const MAX_DEDUP_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

/** Group defaults; a station sets its own, a group may override. */
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
export const MIN_ACK_TIMEOUT_MS = 100;
export const MAX_ACK_TIMEOUT_MS = 12 * 60 * 60 * 1000;
export const DEFAULT_MAX_DELIVERIES = 10;
export const MAX_MAX_DELIVERIES = 1000;

/** Fetch and long-poll. */
export const MAX_FETCH_MESSAGES = 1000;
/** Messages a fetch leases when the body names no `max`. */
export const DEFAULT_FETCH_MESSAGES = 10;
/** Most stored bytes one fetch hands out (at least one message always goes, whatever its size). */
export const MAX_FETCH_BYTES = 8 * MiB;
/** Most stored bytes in one pushed WebSocket frame (at least one message always goes). */
export const MAX_PUSH_FRAME_BYTES = 1 * MiB;
/** Most credit a WebSocket subscriber may hold unspent; more is capped, not refused. */
export const MAX_SUBSCRIBE_CREDIT = 1000;
export const MAX_WAIT_MS = 30_000;
export const MAX_NACK_DELAY_MS = 24 * 60 * 60 * 1000;
/** Longest a produced message may wait before groups and webhooks see it (`delayMs`): 7 days. */
export const MAX_MESSAGE_DELAY_MS = 7 * 24 * 60 * 60 * 1000;
/** Most offsets in one ack or nack. */
export const MAX_ACK_OFFSETS = 1000;

/** Dead-letter station: browse page size, and most ids in one resend. */
export const DEFAULT_DLS_LIMIT = 100;
export const MAX_DLS_LIMIT = 1000;
export const MAX_RESEND_IDS = 1000;
/** Most dead letters one `{"all": true}` resend puts back; the answer's `more` says to repeat. */
export const MAX_RESEND_ALL = 10_000;
/** Most stored bytes of dead letters one resend puts back (at least one); `more` says to repeat.
 *  Their bodies are loaded MAX_READ_BYTES at a time. */
export const MAX_RESEND_BYTES = 64 * MiB;
/** The DLS's own bound per station: past either, the oldest dead letters are dropped (and
 *  counted) to make room, so a flood of failures can neither fill the station nor stop
 *  filing the newest ones. Dead letters also count against the storage quota. */
export const MAX_DEAD_LETTERS = 10_000;
export const MAX_DEAD_LETTER_BYTES = 64 * MiB;

/** What a caller can create, each refused with 409 beyond: consumer groups per station
 *  (`too_many_groups`), schema names per deployment (`too_many_schemas`), and stations under
 *  one token prefix (`too_many_stations`: the names a scoped token's `prefix.*` or `*` grant
 *  reaches). Webhook endpoints per station: MAX_WEBHOOKS_PER_STATION in shared/webhooks.ts;
 *  versions per schema: MAX_SCHEMA_VERSIONS in shared/schemas.ts. */
export const MAX_GROUPS_PER_STATION = 100;
export const MAX_SCHEMAS = 1000;
export const MAX_STATIONS_PER_PREFIX = 1000;
/** Long-poll fetches waiting at once in one station; more answer at once with what there is. */
export const MAX_WAITING_FETCHES = 1000;

/** Scoped tokens: lifetime bounds, grants per token, patterns per grant, encoded length. */
export const DEFAULT_TOKEN_TTL_SECONDS = 60 * 60;
export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 30 * 24 * 60 * 60;
export const MAX_TOKEN_GRANTS = 32;
export const MAX_GRANT_PATTERNS = 64;
export const MAX_TOKEN_LENGTH = 8 * KiB;

/** Rates (429 `rate_limited` beyond): a scoped token's subject, unless its claims say otherwise… */
export const DEFAULT_TOKEN_REQUESTS_PER_SECOND = 50;
export const DEFAULT_TOKEN_BYTES_PER_SECOND = 4 * MiB;
/** …and a station, whoever calls, unless its config says otherwise. */
export const DEFAULT_STATION_REQUESTS_PER_SECOND = 5000;
export const DEFAULT_STATION_BYTES_PER_SECOND = 64 * MiB;
export const MAX_RATE_REQUESTS_PER_SECOND = 1_000_000;
export const MAX_RATE_BYTES_PER_SECOND = 1024 * MiB;

/** A station's storage quota (bytes in its log): the default and ceiling unless the operator
 *  sets STATION_MAX_STORAGE_BYTES; a Durable Object's SQLite database holds at most 10 GB. */
export const DEFAULT_MAX_STORAGE_BYTES = 1024 * MiB;
export const MAX_STORAGE_BYTES_LIMIT = 9 * 1024 * MiB;

/** Request headers: count and total size (431 beyond), and URL length (414 beyond). */
export const MAX_REQUEST_HEADERS = 100;
export const MAX_REQUEST_HEADERS_BYTES = 32 * KiB;
export const MAX_URL_LENGTH = 8 * KiB;
/** Nesting depth of any JSON body: deeper input is refused before it reaches a recursive walk. */
export const MAX_JSON_DEPTH = 128;
