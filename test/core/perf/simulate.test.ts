import { describe, expect, it } from "vitest";
import type { SchedulerPolicy } from "../../../src/core/perf/scheduler.js";
import { type StepLoad, simulateServing } from "../../../src/core/perf/simulate.js";

const decodeFirst: SchedulerPolicy = {
  name: "test",
  order: "decode-first",
  chunked: true,
  tokenBudget: 1000,
  source: "test",
};
const prefillFirst: SchedulerPolicy = { ...decodeFirst, order: "prefill-first", chunked: false };

// 10 ms per step plus 1 ms per 100 computed tokens
const step = (load: StepLoad) => 0.01 + (load.decodeSeqs + load.prefillTokens) * 1e-5;

describe("serving simulation", () => {
  it("one request: TTFT is its prefill step, TPOT the decode step", () => {
    const r = simulateServing({
      promptTokens: 500,
      genTokens: 101,
      clients: 1,
      maxRunning: 8,
      policy: decodeFirst,
      replace: false,
      requests: 1,
      measureFrom: 0,
      stepSeconds: step,
    });
    expect(r.ttft).toBeCloseTo(0.01 + 500e-5, 9);
    expect(r.tpot).toBeCloseTo(0.01 + 1e-5, 9);
    expect(r.e2e).toBeCloseTo(r.ttft + 100 * r.tpot, 9);
  });

  it("a prompt longer than the token budget takes several chunked steps", () => {
    const r = simulateServing({
      promptTokens: 2500,
      genTokens: 2,
      clients: 1,
      maxRunning: 8,
      policy: decodeFirst,
      replace: false,
      requests: 1,
      measureFrom: 0,
      stepSeconds: step,
    });
    expect(r.ttft).toBeCloseTo(3 * 0.01 + 2500e-5, 9);
  });

  it("prefill-first: a wave of users that starts together prefills together and stays in step", () => {
    const r = simulateServing({
      promptTokens: 200,
      genTokens: 50,
      clients: 4,
      maxRunning: 8,
      policy: prefillFirst,
      replace: true,
      requests: 12,
      measureFrom: 4,
      stepSeconds: step,
    });
    // every wave: one prefill step of 4 x 200 tokens, then 49 decode steps of 4 sequences
    expect(r.ttft).toBeCloseTo(0.01 + 800e-5, 9);
    expect(r.tpot).toBeCloseTo(0.01 + 4e-5, 9);
    // closed loop: 4 users always in the system (Little's law)
    expect(r.throughput).toBeCloseTo((4 * 50) / r.e2e, 6);
  });

  it("spreading the users' first requests over the cycle removes the wait behind the wave", () => {
    const common = {
      promptTokens: 200,
      genTokens: 50,
      clients: 4,
      maxRunning: 8,
      policy: prefillFirst,
      replace: true,
      requests: 16,
      measureFrom: 8,
      stepSeconds: step,
    };
    const wave = simulateServing(common);
    const spread = simulateServing({ ...common, startTimes: [0, 0.15, 0.3, 0.45] });
    expect(spread.ttft).toBeLessThan(wave.ttft);
    expect(spread.ttft).toBeGreaterThanOrEqual(0.01 + 200e-5 - 1e-12);
  });

  it("decode-first: prompt chunks share steps with the running decodes", () => {
    const r = simulateServing({
      promptTokens: 100,
      genTokens: 20,
      clients: 3,
      maxRunning: 8,
      policy: decodeFirst,
      replace: true,
      requests: 30,
      measureFrom: 3,
      startTimes: [0, 0.07, 0.14],
      stepSeconds: step,
    });
    // a new prompt is computed in the next step, alongside the others' decodes
    expect(r.ttft).toBeLessThan(2 * (0.01 + 102e-5) + 1e-9);
    expect(r.tpot).toBeGreaterThan(0.01);
  });

  it("more users than the engine runs at once wait in its queue", () => {
    const common = {
      promptTokens: 100,
      genTokens: 20,
      maxRunning: 2,
      policy: decodeFirst,
      replace: true,
      requests: 24,
      measureFrom: 8,
      stepSeconds: step,
    };
    const fits = simulateServing({ ...common, clients: 2 });
    const queued = simulateServing({ ...common, clients: 4 });
    expect(queued.ttft).toBeGreaterThan(fits.ttft + 0.5 * fits.e2e);
    expect(queued.throughput).toBeCloseTo(fits.throughput, 1);
  });

  it("open-loop arrivals: an idle engine serves each request as it arrives", () => {
    const r = simulateServing({
      promptTokens: 100,
      genTokens: 10,
      clients: 0,
      maxRunning: 8,
      policy: decodeFirst,
      replace: false,
      arrivals: [0, 1, 2, 3],
      requests: 4,
      measureFrom: 0,
      stepSeconds: step,
    });
    expect(r.ttft).toBeCloseTo(0.01 + 100e-5, 9);
  });
});
