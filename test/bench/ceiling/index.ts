// The ceiling: the least a Worker + SQLite Durable Object can do for a produce or a read.
// The Worker parses the same JSON body, encodes each body, and calls one object over RPC, which
// inserts the same rows as a station's log in one transaction (or selects 100 of them back).
// No auth, validation, seq/dedup, routing, index; `/healthz` is the bare Worker's hello world.
import { DurableObject } from "cloudflare:workers";

interface Env {
  CEILING: DurableObjectNamespace<Ceiling>;
}

interface Row {
  producer: string | null;
  seq: number | null;
  body: string;
}

interface StoredRow extends Record<string, SqlStorageValue> {
  msg_offset: number;
  producer: string | null;
  seq: number | null;
  body: string;
  produced_at: number;
}

export class Ceiling extends DurableObject<Env> {
  private nextOffset: number;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // The same columns as the station's `messages` table (worker/station/tables.ts).
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      msg_offset INTEGER PRIMARY KEY, producer TEXT, seq INTEGER, msg_id TEXT, msg_key TEXT,
      headers TEXT, body TEXT NOT NULL, produced_at INTEGER NOT NULL, bytes INTEGER NOT NULL)`);
    const last = ctx.storage.sql.exec<{ last: number | null }>("SELECT max(msg_offset) AS last FROM messages").one().last;
    this.nextOffset = (last ?? 0) + 1;
  }

  /** Appends the rows in one transaction; returns the first offset. */
  append(rows: Row[]): number {
    const first = this.nextOffset;
    const now = Date.now();
    this.ctx.storage.transactionSync(() => {
      rows.forEach((row, i) => {
        this.ctx.storage.sql.exec(
          "INSERT INTO messages (msg_offset, producer, seq, msg_id, msg_key, headers, body, produced_at, bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          first + i, row.producer, row.seq, null, null, null, row.body, now, row.body.length,
        );
      });
    });
    this.nextOffset = first + rows.length;
    return first;
  }

  /** Up to `limit` rows from offset `from`, in order. */
  read(from: number, limit: number): StoredRow[] {
    return this.ctx.storage.sql
      .exec<StoredRow>("SELECT msg_offset, producer, seq, body, produced_at FROM messages WHERE msg_offset >= ? ORDER BY msg_offset LIMIT ?", from, limit)
      .toArray();
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path === "/healthz") return new Response("ok");
    const match = /^\/(append|read)\/([a-z0-9._-]+)$/.exec(path);
    if (!match) return new Response("not found", { status: 404 });
    const stub = env.CEILING.get(env.CEILING.idFromName(match[2]!));
    if (match[1] === "read" && request.method === "GET") {
      const from = Number(url.searchParams.get("from") ?? 1);
      const limit = Number(url.searchParams.get("limit") ?? 100);
      const rows = await stub.read(from, limit);
      const messages = rows.map((r) => ({ offset: r.msg_offset, producer: r.producer, seq: r.seq, body: JSON.parse(r.body), producedAt: r.produced_at }));
      return Response.json({ messages, nextOffset: (rows.at(-1)?.msg_offset ?? from - 1) + 1 });
    }
    if (match[1] !== "append" || request.method !== "POST") return new Response("not found", { status: 404 });
    const { producer = null, messages } = (await request.json()) as { producer?: string; messages: { seq?: number; body: unknown }[] };
    const rows = messages.map((m) => ({ producer, seq: m.seq ?? null, body: JSON.stringify(m.body) }));
    const first = await stub.append(rows);
    return Response.json({ results: rows.map((row, i) => ({ seq: row.seq, offset: first + i, duplicate: false })) });
  },
} satisfies ExportedHandler<Env>;
