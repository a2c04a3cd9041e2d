// One alarm per object, shared by every part that needs time (retention, dedup expiry, leases,
// webhook retries): each part says when it is next due, the alarm is set to the earliest.
// Alarms are at-least-once, so every task must be idempotent.

export interface ScheduledTask {
  name: string;
  /** When this task next has work, or null for none. */
  dueAt(now: number): number | null;
  /** Does the work due at `now`. May run more often than asked. */
  run(now: number): void | Promise<void>;
}

export class Scheduler {
  /** The alarm as we last set it; undefined until read from storage. */
  private alarmAt: number | null | undefined;

  private readonly tasks: ScheduledTask[] = [];
  /** The last wake-up asked for: the next one starts after it. */
  private wakeQueue: Promise<void> = Promise.resolve();

  /** Built before the tasks' owners, so they can ask for wake-ups from their constructors. */
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Adds tasks; the alarm considers them from the next `reschedule` or `runDue` on. */
  register(tasks: readonly ScheduledTask[]): void {
    this.tasks.push(...tasks);
  }

  /** Runs every due task, then sets the alarm for the next one. */
  async runDue(now: number): Promise<void> {
    this.alarmAt = null; // the alarm that called us is spent
    for (const task of this.tasks) {
      const due = task.dueAt(now);
      if (due !== null && due <= now) await task.run(now);
    }
    await this.reschedule(now);
  }

  /** Sets the alarm to the earliest due time of all tasks (or clears it). */
  async reschedule(now: number): Promise<void> {
    let next: number | null = null;
    for (const task of this.tasks) {
      const due = task.dueAt(now);
      if (due !== null && (next === null || due < next)) next = due;
    }
    if (next === null) {
      if ((await this.currentAlarm()) !== null) await this.storage.deleteAlarm();
      this.alarmAt = null;
      return;
    }
    if ((await this.currentAlarm()) !== next) {
      await this.storage.setAlarm(next);
      this.alarmAt = next;
    }
  }

  /**
   * Makes sure the alarm fires no later than `at` (cheap: no task is asked). Calls run one after
   * another: two overlapping calls would each read the alarm before either set it, and the later
   * time could then overwrite the earlier (a webhook lease end hiding a delayed message's time).
   */
  wakeBy(at: number): Promise<void> {
    const run = this.wakeQueue.then(() => this.wakeNow(at));
    this.wakeQueue = run.catch(() => undefined);
    return run;
  }

  private async wakeNow(at: number): Promise<void> {
    const current = await this.currentAlarm();
    if (current === null || at < current) {
      await this.storage.setAlarm(at);
      this.alarmAt = at;
    }
  }

  private async currentAlarm(): Promise<number | null> {
    if (this.alarmAt === undefined) this.alarmAt = await this.storage.getAlarm();
    return this.alarmAt;
  }
}
