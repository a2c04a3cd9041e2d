// Random names for the server client: message ids (dedup), producer ids and consumer names.
// From crypto.getRandomValues, a global in Node ≥ 20, Bun, Deno and Workers alike.

/** 128 random bits as 32 hex digits: fits producer ids, message ids and consumer names. */
export function randomHex(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => (clearTimeout(timer), signal?.removeEventListener("abort", done), resolve());
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
