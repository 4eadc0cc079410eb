/**
 * The studio's one lifecycle lock: an async mutex that runs its holders one at a time, in arrival
 * order. Every decision that changes which engines run (launch, stop, switch, restart, the watchdog's
 * restarts, adoption) happens while holding it, so two requests can never pick the same GPUs or act on
 * an instance that another request is changing. It is not re-entrant: code that already holds it calls
 * the unlocked variants.
 */
export class Mutex {
  private tail: Promise<void> = Promise.resolve();
  private waiting = 0;
  private held = false;

  /** Runs `work` once every earlier holder has finished; the lock is released even when it throws. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.waiting += 1;
    let release = () => {};
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    this.waiting -= 1;
    this.held = true;
    try {
      return await work();
    } finally {
      this.held = false;
      release();
    }
  }

  /** Whether someone holds it now. */
  get isHeld(): boolean {
    return this.held;
  }

  /** Holders queued behind the current one. */
  get queued(): number {
    return this.waiting;
  }
}
