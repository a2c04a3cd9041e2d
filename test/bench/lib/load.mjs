// The HTTP load generator of every HTTP figure: autocannon with `connections` keep-alive
// connections, each sending its next request when the last was answered, for `seconds` (or
// until a workload says it is done). Every answer is checked; any error fails the run.
import autocannon from "autocannon";

/**
 * @typedef {{method?: string, path: string, body?: string, headers?: Record<string,string>}} Req
 * @typedef {{
 *   url: string, connections: number, seconds: number, token?: string,
 *   requests: Array<{setup?: (context: object) => Req | null, method?: string, path?: string, body?: string,
 *     onAnswer?: (status: number, body: string, context: object) => number}>,
 *   maxRequests?: number,
 * }} LoadOptions
 * onAnswer returns how many messages the answer completed (throw to fail the run; return -1 to
 * stop the run early, e.g. a consumer that found the station empty).
 */

/**
 * @param {LoadOptions} options
 * @returns {Promise<{ops: number, messages: number, elapsedMs: number, perSecond: number, p50: number, p99: number, latenciesMs: number[]}>}
 */
export function runLoad(options) {
  const { url, connections, seconds, token, maxRequests } = options;
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  let messages = 0;
  let failure = null;
  let instance;
  const stop = () => instance?.stop();
  const requests = options.requests.map((r) => ({
    method: r.method ?? "GET",
    ...(r.path === undefined ? {} : { path: r.path }),
    ...(r.body === undefined ? {} : { body: r.body }),
    headers,
    // autocannon calls setupRequest whenever the key is present, so it is left out when static.
    ...(r.setup && {
      setupRequest: (req, context) => {
        const built = r.setup(context);
        return built && { ...req, ...built, headers: { ...headers, ...built.headers } };
      },
    }),
    onResponse: (status, body, context) => {
      if (failure) return;
      try {
        const done = r.onAnswer ? r.onAnswer(status, body, context) : expectOk(status, body);
        if (done < 0) stop();
        else messages += done;
      } catch (error) {
        failure = error;
        stop();
      }
    },
  }));
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        ...(maxRequests ? { amount: maxRequests } : {}),
        timeout: 30,
        requests,
      },
      (error, result) => {
        const elapsedMs = performance.now() - t0;
        if (error) return reject(error);
        if (failure) return reject(failure);
        if (result.errors > 0 || result.timeouts > 0) {
          return reject(new Error(`${url}: ${result.errors} connection errors, ${result.timeouts} timeouts`));
        }
        const elapsed = Math.min(elapsedMs, result.duration * 1000 || elapsedMs);
        resolve({
          ops: result.requests.total,
          messages,
          elapsedMs: elapsed,
          perSecond: (messages / elapsed) * 1000,
          p50: result.latency.p50,
          p99: result.latency.p99,
          latenciesMs: [],
        });
      },
    );
  });
}

/** The default check: a 2xx answer, counted as one message. */
function expectOk(status, body) {
  if (status < 200 || status > 299) throw new Error(`answer ${status}: ${String(body).slice(0, 300)}`);
  return 1;
}

/** Throws unless `status` is 200; returns the parsed JSON body. */
export function okJson(status, body, what) {
  if (status !== 200) throw new Error(`${what}: ${status} ${String(body).slice(0, 300)}`);
  return JSON.parse(body);
}

/**
 * Producer ids leased to one request at a time, so each (producer, seq) sequence is sent in
 * order even though autocannon's connections have no identity of their own: a request takes a
 * free producer (or a new one), its answer gives it back. A request that never answered fails
 * the run, so a lease lost that way does not matter.
 */
export function producerPool(prefix) {
  const free = [];
  let created = 0;
  return {
    take() {
      return free.pop() ?? { id: `${prefix}-${++created}`, nextSeq: 1 };
    },
    give(producer) {
      free.push(producer);
    },
  };
}
