import { afterEach, describe, expect, it, vi } from "vitest";
import { PeriodicTask } from "../../src/runtime/periodic-task.js";

afterEach(() => {
  vi.useRealTimers();
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("PeriodicTask", () => {
  it("never runs twice at once: ticks during a slow run are skipped and counted", async () => {
    vi.useFakeTimers();
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const gate = deferred();
    const task = new PeriodicTask(100, async () => {
      running += 1;
      runs += 1;
      maxRunning = Math.max(maxRunning, running);
      await gate.promise;
      running -= 1;
    });
    task.start();
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(350);
    expect(runs).toBe(1);
    expect(task.skippedTicks).toBe(3);
    gate.resolve();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    expect(maxRunning).toBe(1);
    await task.stop();
  });

  it("runNow joins the run in flight; stop waits for it and ends the ticking", async () => {
    vi.useFakeTimers();
    const gate = deferred();
    let runs = 0;
    const task = new PeriodicTask(100, async () => {
      runs += 1;
      await gate.promise;
      return runs;
    });
    task.start({ runNow: false });
    expect(runs).toBe(0);
    await vi.advanceTimersByTimeAsync(100);
    const joined = task.runNow();
    expect(runs).toBe(1);
    let stopped = false;
    const stopping = task.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    gate.resolve();
    expect(await joined).toBe(1);
    await stopping;
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
    task.start();
    expect(runs).toBe(1);
  });

  it("keeps ticking after a run fails", async () => {
    vi.useFakeTimers();
    let runs = 0;
    const task = new PeriodicTask(100, async () => {
      runs += 1;
      throw new Error("tool failed");
    });
    task.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(runs).toBe(3);
    await task.stop();
  });
});
