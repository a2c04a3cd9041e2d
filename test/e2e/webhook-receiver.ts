// A real webhook receiver for end-to-end tests: a Node HTTP server on 127.0.0.1 that verifies
// every delivery with the official `standardwebhooks` library, can fail attempts on purpose,
// and records what it accepted (deduplicated by webhook-id, as a receiver should).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { Webhook } from "standardwebhooks";

export interface Delivery {
  webhookId: string;
  payload: any;
  /** Every signature in the header verified with the secret(s) it was checked against. */
  verified: boolean;
  status: number;
  at: number;
}

/** What the receiver answers to an attempt: a status and headers (a 2xx accepts it). */
export type Decide = (attempt: { webhookId: string; payload: any; index: number }) => { status: number; headers?: Record<string, string> };

export interface Receiver {
  url: string;
  /** Every attempt, in arrival order. */
  attempts: Delivery[];
  /** Accepted deliveries, first acceptance per webhook-id, in arrival order. */
  accepted(): Delivery[];
  /** Attempts whose signature did not verify (must stay empty). */
  rejected: { headers: Record<string, string | string[] | undefined>; body: string; error: string }[];
  /** Most attempts that were open at the same time. */
  maxConcurrent: number;
  setSecret(secret: string): void;
  decide(fn: Decide): void;
  close(): Promise<void>;
}

export async function startReceiver(path = "/hook"): Promise<Receiver> {
  let verifier: Webhook | null = null;
  let decideFn: Decide = () => ({ status: 204 });
  const attempts: Delivery[] = [];
  const rejected: Receiver["rejected"] = [];
  let open = 0;
  let maxConcurrent = 0;
  const server: Server = createServer(async (req, res) => {
    open += 1;
    maxConcurrent = Math.max(maxConcurrent, open);
    try {
      const body = await readBody(req);
      if (req.method !== "POST" || req.url !== path || verifier === null) {
        res.writeHead(404).end();
        return;
      }
      let payload: any;
      try {
        payload = verifier.verify(body, {
          "webhook-id": String(req.headers["webhook-id"] ?? ""),
          "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
          "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
        });
      } catch (error) {
        rejected.push({ headers: req.headers, body, error: String(error) });
        res.writeHead(400).end("bad signature");
        return;
      }
      const webhookId = String(req.headers["webhook-id"]);
      const decision = decideFn({ webhookId, payload, index: attempts.length });
      attempts.push({ webhookId, payload, verified: true, status: decision.status, at: Date.now() });
      res.writeHead(decision.status, decision.headers).end(decision.status < 300 ? "" : "try again");
    } finally {
      open -= 1;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}${path}`,
    attempts,
    rejected,
    get maxConcurrent() {
      return maxConcurrent;
    },
    accepted() {
      const seen = new Set<string>();
      return attempts.filter((a) => a.status >= 200 && a.status < 300 && !seen.has(a.webhookId) && seen.add(a.webhookId));
    },
    setSecret(secret) {
      verifier = new Webhook(secret);
    },
    decide(fn) {
      decideFn = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
