// Produce load over HTTP, the same for Waystation and the ceiling: autocannon connections
// posting batches of `batch` ~200 B messages, with a producer id and seqs (each producer's
// requests in order, see producerPool) or without; every answer checked, one result per message.
import { producerPool, runLoad } from "./load.mjs";
import { produceRequestJson, unsequencedRequestJson } from "./payload.mjs";

/**
 * @param {{url: string, path: string, token?: string, batch: number, withSeq: boolean,
 *   connections: number, seconds: number, maxRequests?: number}} options
 */
export function produceLoad({ url, path, token, batch, withSeq, connections, seconds, maxRequests }) {
  const pool = producerPool(`bench-${Date.now().toString(36)}`);
  const fixedBody = withSeq ? undefined : unsequencedRequestJson(1, batch);
  return runLoad({
    url,
    token,
    connections,
    seconds,
    maxRequests,
    requests: [
      {
        method: "POST",
        path,
        body: fixedBody,
        setup: withSeq
          ? (context) => {
              const producer = pool.take();
              context.producer = producer;
              const body = produceRequestJson(producer.id, producer.nextSeq, batch);
              producer.nextSeq += batch;
              return { method: "POST", path, body };
            }
          : undefined,
        onAnswer: (status, body, context) => {
          if (status !== 200) throw new Error(`POST ${path}: ${status} ${String(body).slice(0, 300)}`);
          checkProduceAnswer(JSON.parse(body), batch);
          if (context.producer) pool.give(context.producer);
          return batch;
        },
      },
    ],
  });
}

/** Checks a produce answer: one fresh stored result per message. */
export function checkProduceAnswer(answer, count) {
  const results = answer?.results;
  if (!Array.isArray(results) || results.length !== count || results[0].duplicate !== false || !(results[0].offset > 0) || !(results.at(-1).offset > 0)) {
    throw new Error(`unexpected produce answer: ${JSON.stringify(answer).slice(0, 300)}`);
  }
}
