/**
 * The watchdog: an engine killed with SIGKILL is restarted when its launch asked for autoRestart, until
 * the failure budget (3 failures in the window) is spent; the pure parts (budget, state machine) with an
 * injected clock.
 */
import { afterEach, describe, expect, it } from "vitest";
import { judgeFailures } from "../../src/studio/lifecycle/failure-budget.js";
import { assertAllowed, isAllowed, TRANSITIONS } from "../../src/studio/lifecycle/transitions.js";
import { cleanUp, groupMembers, isInstanceEvent, openStudio, QWEN, waitUntil } from "./lifecycle-helpers.js";

afterEach(cleanUp);

async function killGroup(pid: number): Promise<void> {
  process.kill(-pid, "SIGKILL");
  await waitUntil("the group gone", async () => (await groupMembers(pid)).length === 0, 10_000, 20);
}

describe("watchdog", () => {
  it("restarts an engine killed with SIGKILL, and stops after 3 failures in the window", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, name: "w", autoRestart: true } });
    expect(launched.status).toBe(202);
    let pid = launched.body.pid as number;
    let seen = 0;
    const readyAfter = async (count: number) => {
      const ready = await events.waitFor(
        (e) =>
          isInstanceEvent("w", "ready")(e) &&
          events.events.filter(isInstanceEvent("w", "ready")).indexOf(e) >= count,
        60_000,
        `ready #${count + 1}`,
      );
      return ready;
    };
    await readyAfter(0);
    for (let death = 1; death <= 2; death++) {
      await killGroup(pid);
      const restarted = await events.waitFor(
        (e) => isInstanceEvent("w", "starting")(e) && e.data.reason === "watchdog" && e.data.pid !== pid,
        30_000,
        `watchdog restart #${death}`,
      );
      pid = restarted.data.pid;
      await readyAfter(death);
      seen = death;
    }
    expect(seen).toBe(2);
    const metrics = (await s.api("/metrics")).body as string;
    expect(metrics).toContain("servepilot_studio_watchdog_restarts_total 2");

    await killGroup(pid);
    const exhausted = await events.waitFor(
      (e) => isInstanceEvent("w", "failed")(e) && e.data.restartsExhausted === true,
      30_000,
      "budget exhausted",
    );
    expect(exhausted.data.reason).toMatch(/failed 3 times in 10 minutes/);
    const one = await s.api("/api/instances/w");
    expect(one.body).toMatchObject({ status: "failed", alive: false, desiredState: "stopped" });
    expect(one.body.failure.message).toMatch(/not restarted: it failed 3 times/);
    // no restart follows
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await s.api("/api/instances/w")).body.status).toBe("failed");
    expect(events.events.filter((e) => isInstanceEvent("w", "starting")(e)).length).toBe(3);
    // the operator can still restart it by hand
    const manual = await s.api("/api/instances/w/restart", { method: "POST" });
    expect(manual.status).toBe(202);
    await readyAfter(3);
  }, 180_000);

  it("marks an engine without autoRestart failed when it dies, and leaves it down", async () => {
    const s = await openStudio();
    const events = await s.events();
    const launched = await s.api("/api/instances", { body: { model: QWEN, name: "once" } });
    await events.waitFor(isInstanceEvent("once", "ready"), 60_000, "ready");
    await killGroup(launched.body.pid);
    const failed = await events.waitFor(isInstanceEvent("once", "failed"), 30_000, "failed");
    expect(failed.data.failure.cause).toBe("exited");
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(events.events.filter(isInstanceEvent("once", "starting")).length).toBe(1);
  }, 120_000);
});

describe("failure budget (pure, injected clock)", () => {
  const budget = { maxFailures: 3, windowMs: 10 * 60_000 };
  it("counts only the failures inside the window", () => {
    const now = Date.parse("2026-01-01T12:00:00Z");
    expect(judgeFailures([now - 60_000, now - 30_000], now, budget)).toMatchObject({
      recent: 2,
      exhausted: false,
    });
    expect(judgeFailures([now - 120_000, now - 60_000, now], now, budget).exhausted).toBe(true);
    // three failures, but the first was 11 minutes ago: one more restart is allowed
    expect(judgeFailures([now - 11 * 60_000, now - 60_000, now], now, budget)).toMatchObject({
      recent: 2,
      exhausted: false,
    });
  });
});

describe("state machine (pure)", () => {
  it("allows each operation only in its statuses, and names the current one when not", () => {
    expect(isAllowed("stop", "ready")).toBe(true);
    expect(isAllowed("stop", "stopped")).toBe(false);
    expect(isAllowed("cancel", "ready")).toBe(false);
    expect(isAllowed("forget", "ready")).toBe(false);
    expect(isAllowed("launch", "failed")).toBe(true);
    expect(() => assertAllowed("restart", "x", "stopping")).toThrow(
      /cannot restart instance x: it is stopping/,
    );
    expect(() => assertAllowed("stop", "x", "absent")).toThrow(/no instance named "x"/);
    for (const statuses of Object.values(TRANSITIONS)) expect(statuses).not.toContain("stopping");
  });
});
