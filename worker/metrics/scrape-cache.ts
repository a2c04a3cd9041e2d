// Recent scrapes, kept a few seconds in this isolate: each scrape fans out to up to 500
// stations, so a scraper (or a flood of them) asking again within METRICS_CACHE_MS gets the
// same text, and concurrent scrapes of the same stations share one fan-out. Keyed by the exact
// list of stations reported, so a token is never answered with stations it may not see.

/** How long a scrape's text is served again. */
export const METRICS_CACHE_MS = 5_000;
/** Most distinct station lists kept at once (a token per tenant scrapes its own list). */
const MAX_ENTRIES = 32;

interface Entry {
  atMs: number;
  text: Promise<string>;
}

export class ScrapeCache {
  private readonly entries = new Map<string, Entry>();

  /** The text for `stations`, from a scrape younger than METRICS_CACHE_MS, or a new one made by `scrape`. */
  get(stations: readonly string[], omitted: number, nowMs: number, scrape: () => Promise<string>): Promise<string> {
    const key = `${omitted}\n${stations.join("\n")}`;
    const entry = this.entries.get(key);
    if (entry && nowMs - entry.atMs < METRICS_CACHE_MS) return entry.text;
    this.entries.delete(key);
    for (const [old, kept] of this.entries) if (nowMs - kept.atMs >= METRICS_CACHE_MS) this.entries.delete(old);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const text = scrape();
    this.entries.set(key, { atMs: nowMs, text });
    // A failed scrape is not kept: the next one tries again.
    text.catch(() => {
      if (this.entries.get(key)?.text === text) this.entries.delete(key);
    });
    return text;
  }
}
