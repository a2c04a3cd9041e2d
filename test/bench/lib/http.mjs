// A small keep-alive HTTP/1.1 client on node:http: the benchmark's client must cost little
// and the same for every HTTP peer (Waystation, the bare object, the bare Worker).
import http from "node:http";

const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * Sends one request; resolves with status and body text. Rejects on network errors and after
 * `timeoutMs`, so no benchmark loop can hang.
 * @returns {Promise<{status: number, text: string}>}
 */
export async function request(method, url, options = {}) {
  try {
    return await requestOnce(method, url, options);
  } catch (error) {
    // A kept-alive socket the server closed while it sat idle (between rounds) fails as soon as
    // it is reused; the request never reached the server, so it is sent once more.
    if (!error?.reusedSocket) throw error;
    return requestOnce(method, url, options);
  }
}

function requestOnce(method, url, { body, token, timeoutMs = 30_000 } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(body);
    }
    const req = http.request(url, { method, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on("data", (chunk) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer in ${timeoutMs} ms`)));
    req.on("error", (error) => {
      if (req.reusedSocket && (error.code === "ECONNRESET" || error.message === "socket hang up")) error.reusedSocket = true;
      reject(error);
    });
    req.end(body);
  });
}

/** Sends JSON, expects `expectStatus`, returns the parsed answer; anything else throws. */
export async function requestJson(method, url, { json, token, expectStatus = 200, timeoutMs } = {}) {
  const res = await request(method, url, { body: json === undefined ? undefined : JSON.stringify(json), token, timeoutMs });
  if (res.status !== expectStatus) throw new Error(`${method} ${url}: ${res.status} ${res.text.slice(0, 500)}`);
  return res.text ? JSON.parse(res.text) : null;
}

export function closeConnections() {
  agent.destroy();
}
