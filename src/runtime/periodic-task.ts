/**
 * Work repeated every `intervalMs` that never overlaps itself: a tick that finds the previous run still
 * going is skipped (and counted), never queued, so a slow GPU tool or engine cannot pile up calls.
 * `runNow()` runs at once, or joins the run in flight.
 */
export class PeriodicTask<T> {
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<T> | null = null;
  private stopped = false;
  /** Ticks skipped because the previous run was still going. */
  skippedTicks = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<T>,
  ) {}

  /** Starts ticking (and runs once now unless `runNow` is false). Does nothing once stopped. */
  start(options: { runNow?: boolean } = {}): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => {
      if (this.inFlight !== null) {
        this.skippedTicks += 1;
        return;
      }
      void this.runNow().catch(() => undefined);
    }, this.intervalMs);
    this.timer.unref();
    if (options.runNow !== false) void this.runNow().catch(() => undefined);
  }

  runNow(): Promise<T> {
    if (this.inFlight !== null) return this.inFlight;
    this.inFlight = this.work().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  /** Stops ticking and waits for the run in flight, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight?.catch(() => undefined);
  }
}
