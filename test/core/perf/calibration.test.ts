import { describe, expect, it } from "vitest";
import { evaluatePerf, METRIC_GROUPS, medianError } from "../../../src/runtime/calibration/evaluate-perf.js";

/**
 * Predicted vs published performance (data/calibration/perf.jsonl; `npm run eval:perf` prints the
 * table). Issue 4's acceptance: the median |error| of output tokens/s, TTFT and TPOT each within 25%.
 */
describe("performance calibration", async () => {
  const { comparisons, prepared } = await evaluatePerf();

  it("re-predicts at least 40 published measurements", () => {
    expect(prepared.length).toBeGreaterThanOrEqual(40);
  });

  it("predicts output tokens/s within 25% median", () => {
    const throughput = medianError(comparisons, METRIC_GROUPS.throughput);
    expect(throughput.n).toBeGreaterThanOrEqual(30);
    expect(throughput.median).toBeLessThanOrEqual(0.25);
  });

  it("predicts TTFT within 25% median", () => {
    const ttft = medianError(comparisons, METRIC_GROUPS.ttft);
    expect(ttft.n).toBeGreaterThanOrEqual(28);
    expect(ttft.median).toBeLessThanOrEqual(0.25);
  });

  it("predicts TPOT within 25% median", () => {
    const tpot = medianError(comparisons, METRIC_GROUPS.tpot);
    expect(tpot.n).toBeGreaterThanOrEqual(18);
    expect(tpot.median).toBeLessThanOrEqual(0.25);
  });
});

describe("performance model behaviour", async () => {
  const { prepared } = await evaluatePerf();
  const { estimateRoofline } = await import("../../../src/core/perf/roofline.js");

  it("gains throughput and loses per-request speed as concurrency grows, up to saturation", () => {
    const row = prepared.find((p) => p.row.model === "meta-llama/Llama-3.1-8B-Instruct");
    expect(row).toBeDefined();
    const input = { ...(row?.perfInput as NonNullable<typeof row>["perfInput"]), maxBatch: 256 };
    const estimate = estimateRoofline({ ...input, workload: { ...input.workload, concurrency: 64 } });
    for (let i = 1; i < estimate.curve.length; i++) {
      const prev = estimate.curve[i - 1];
      const cur = estimate.curve[i];
      expect(cur?.outputTokensPerSecond).toBeGreaterThanOrEqual(prev?.outputTokensPerSecond as number);
      expect(cur?.perRequestTokensPerSecond).toBeLessThanOrEqual(prev?.perRequestTokensPerSecond as number);
    }
    expect(estimate.saturation.concurrency).toBeLessThanOrEqual(256);
    expect(estimate.outputTokensPerSecond.low).toBeLessThan(estimate.outputTokensPerSecond.expected);
    expect(estimate.outputTokensPerSecond.high).toBeGreaterThan(estimate.outputTokensPerSecond.expected);
  });

  it("a wave of long prompts on a prefill-first engine waits behind the prompts queued before it", () => {
    const rows = prepared.filter((p) => p.row.id.startsWith("vllm-h200-tp8-deepseek-r1-3200x800-"));
    expect(rows.length).toBe(2);
    const base = (rows[0] as (typeof rows)[number]).perfInput;
    const at = (concurrency: number) =>
      estimateRoofline({ ...base, workload: { ...base.workload, concurrency } }).ttftMs.expected;
    // users that start together and stay in step: TTFT grows with the wave, not with one prefill
    expect(at(64)).toBeGreaterThan(8 * at(4));
    // with varying lengths (real traffic) the users drift apart and each prompt is served on arrival
    const spread = estimateRoofline({
      ...base,
      fixedLengths: false,
      workload: { ...base.workload, concurrency: 64 },
    }).ttftMs.expected;
    expect(spread).toBeLessThan(at(64) / 4);
  });

  it("never decodes faster than memory bandwidth allows for one stream", () => {
    for (const p of prepared) {
      const single = estimateRoofline({
        ...p.perfInput,
        workload: { ...p.perfInput.workload, concurrency: 1 },
      });
      const bytesPerStep = p.perfInput.weightBytesPerRank * (p.perfInput.arch.moe ? 0 : 1);
      const floorMs = (bytesPerStep / (p.perfInput.gpu.memory.bandwidthGBs * 1e9)) * 1000;
      expect(single.tpotMs.expected, p.row.id).toBeGreaterThanOrEqual(floorMs * 0.99);
    }
  });
});
