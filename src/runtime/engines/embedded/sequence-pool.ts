/**
 * The `--parallel` sequences of the one llama.cpp context, lent to requests one at a time. A request
 * that finds none free waits in line (first come, first served) — llama-server's "deferred" tasks —
 * and leaves the line when its client goes away.
 */

interface Waiter<T> {
  resolve(item: T): void;
  reject(reason: unknown): void;
}

export class SequencePool<T> {
  private readonly free: T[];
  private readonly waiters: Waiter<T>[] = [];
  private closedReason: Error | null = null;

  constructor(
    items: readonly T[],
    private readonly size = items.length,
  ) {
    this.free = [...items];
  }

  /** Sequences lent out now. */
  get busy(): number {
    return this.size - this.free.length;
  }

  /** Requests waiting for a sequence. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * A free sequence, now or when one is released; rejects with the signal's reason if it aborts
   * first. Among free ones, the highest `preference` wins (the one holding the longest prefix of the
   * prompt, so its cache is reused); a waiting request takes the next one released.
   */
  acquire(signal?: AbortSignal, preference?: (item: T) => number): Promise<T> {
    if (this.closedReason) return Promise.reject(this.closedReason);
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.free.length > 0) {
      let best = 0;
      if (preference) {
        const scores = this.free.map(preference);
        scores.forEach((score, index) => {
          if (score > (scores[best] ?? Number.NEGATIVE_INFINITY)) best = index;
        });
      }
      const [item] = this.free.splice(best, 1) as [T];
      return Promise.resolve(item);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter<T> = {
        resolve: (lent) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(lent);
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Gives a sequence back: the longest-waiting request gets it, else it becomes free. */
  release(item: T): void {
    const next = this.waiters.shift();
    if (next) next.resolve(item);
    else this.free.push(item);
  }

  /** Refuses every waiting and later request (the server is stopping). */
  close(reason: Error): void {
    this.closedReason = reason;
    for (const waiter of this.waiters.splice(0)) waiter.reject(reason);
  }
}
