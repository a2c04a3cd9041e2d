// Live figures: refreshes the current view every POLL_MS while the page is visible, one
// refresh at a time, slower after failures; reports each outcome to the header's live badge.

export const POLL_MS = 2000;
const MAX_BACKOFF_MS = 30_000;

export class Poller {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private failures = 0;
  private stopped = true;

  constructor(
    private readonly refresh: () => Promise<void>,
    private readonly report: (outcome: { ok: true; at: number } | { ok: false; error: unknown }) => void,
  ) {
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && !this.stopped) this.tick();
    });
  }

  start(): void {
    this.stopped = false;
    this.failures = 0;
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Refreshes now (after an action), then keeps the rhythm. */
  now(): void {
    if (!this.stopped) this.tick();
  }

  private async tick(): Promise<void> {
    clearTimeout(this.timer);
    if (this.running || this.stopped || document.visibilityState !== "visible") return;
    this.running = true;
    try {
      await this.refresh();
      this.failures = 0;
      this.report({ ok: true, at: Date.now() });
    } catch (error) {
      this.failures++;
      this.report({ ok: false, error });
    } finally {
      this.running = false;
    }
    if (this.stopped) return;
    const delay = Math.min(MAX_BACKOFF_MS, POLL_MS * 2 ** Math.min(this.failures, 4));
    this.timer = setTimeout(() => this.tick(), delay);
  }
}
