// The load generator: `concurrency` clients, each sending its next request when the last one
// is answered (a closed loop), until `maxOps` requests or `maxMs` elapse, whichever is first.
import { performance } from "node:perf_hooks";

/**
 * @param {{concurrency: number, maxOps: number, maxMs: number,
 *   op: (client: number, index: number) => Promise<number>}} options op returns messages done
 * @returns {Promise<{ops: number, messages: number, elapsedMs: number, latenciesMs: number[], perSecond: number}>}
 */
export async function runClosedLoop({ concurrency, maxOps, maxMs, op }) {
  const latenciesMs = [];
  let started = 0;
  let messages = 0;
  const t0 = performance.now();
  const deadline = t0 + maxMs;
  async function client(id) {
    while (started < maxOps && performance.now() < deadline) {
      const index = started++;
      const begin = performance.now();
      messages += await op(id, index);
      latenciesMs.push(performance.now() - begin);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)));
  const elapsedMs = performance.now() - t0;
  return { ops: latenciesMs.length, messages, elapsedMs, latenciesMs, perSecond: (messages / elapsedMs) * 1000 };
}
