// Produce throughput and latency over HTTP, shared by Waystation, the ceiling and Queues: a
// closed loop of `concurrency` producers, each with its own producer id and seqs from 1.
import { runClosedLoop } from "./closed-loop.mjs";
import { request } from "./http.mjs";

/**
 * @param {{url: string, token?: string, batch: number, concurrency: number, maxMs: number,
 *   maxMessages: number, makeBody: (producer: string, firstSeq: number, count: number) => string,
 *   check?: (answer: any, count: number) => void}} options
 */
export async function measureHttpProduce(options) {
  const { url, token, batch, concurrency, maxMs, maxMessages, makeBody, check } = options;
  const nextSeq = Array.from({ length: concurrency }, () => 1);
  return runClosedLoop({
    concurrency,
    maxOps: Math.max(1, Math.floor(maxMessages / batch)),
    maxMs,
    op: async (client) => {
      const firstSeq = nextSeq[client];
      nextSeq[client] += batch;
      const res = await request("POST", url, { body: makeBody(`bench-${client}`, firstSeq, batch), token });
      if (res.status !== 200) throw new Error(`POST ${url}: ${res.status} ${res.text.slice(0, 300)}`);
      if (check) check(JSON.parse(res.text), batch);
      return batch;
    },
  });
}

/** Checks a produce answer: one fresh result per message. */
export function checkProduceAnswer(answer, count) {
  const results = answer?.results;
  if (!Array.isArray(results) || results.length !== count || results[0].duplicate !== false || !(results[0].offset > 0)) {
    throw new Error(`unexpected produce answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
}
