// Cloudflare Queues as `wrangler dev` runs them, for `npm run bench`: POST /send puts a batch
// on the queue with sendBatch() (answered once the queue accepted it); the consumer counts
// what it received and how late, and GET /stats reports it.
interface Env {
  BENCH_QUEUE: Queue<{ seq: number; sentAtMs?: number; pad: string }>;
}

/** What the consumer saw since the last reset; one isolate runs both handlers locally. */
let consumed = 0;
let batches = 0;
let latenciesMs: number[] = [];

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/healthz") return new Response("ok");
    if (path === "/send" && request.method === "POST") {
      const { messages } = (await request.json()) as { messages: { body: { seq: number; sentAtMs?: number; pad: string } }[] };
      await env.BENCH_QUEUE.sendBatch(messages.map((m) => ({ body: m.body, contentType: "json" as const })));
      return Response.json({ sent: messages.length });
    }
    if (path === "/stats") return Response.json({ consumed, batches, latenciesMs });
    if (path === "/reset" && request.method === "POST") {
      consumed = 0;
      batches = 0;
      latenciesMs = [];
      return Response.json({ reset: true });
    }
    return new Response("not found", { status: 404 });
  },

  async queue(batch: MessageBatch<{ seq: number; sentAtMs?: number; pad: string }>): Promise<void> {
    const now = Date.now();
    for (const message of batch.messages) {
      if (message.body.sentAtMs !== undefined && latenciesMs.length < 100_000) latenciesMs.push(now - message.body.sentAtMs);
    }
    consumed += batch.messages.length;
    batches += 1;
    batch.ackAll();
  },
} satisfies ExportedHandler<Env, { seq: number; sentAtMs?: number; pad: string }>;
