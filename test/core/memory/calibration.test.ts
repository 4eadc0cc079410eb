import { describe, expect, it } from "vitest";
import { evaluateCalibration, summarize } from "../../../src/runtime/calibration/evaluate.js";

/**
 * Acceptance (issue "Planner: memory"): predictions vs real vLLM startup logs in
 * data/calibration/vllm-memory.jsonl (`npm run eval:memory` prints the table). Rows the catalogs
 * cannot describe (unknown model or GPU, V0 engine, unknown release) are skipped and listed there.
 */
describe("vLLM memory calibration", async () => {
  const { rows } = await evaluateCalibration();
  const summary = summarize(rows);

  it("evaluates at least 20 real startup observations", () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
  });

  it("predicts weights per GPU within 2% median, 6% max", () => {
    expect(summary.weights.n).toBeGreaterThanOrEqual(15);
    expect(summary.weights.median).toBeLessThanOrEqual(0.02);
    expect(summary.weights.max).toBeLessThanOrEqual(0.06);
  });

  it("predicts KV cache memory per GPU within 5% median", () => {
    expect(summary.kvCache.n).toBeGreaterThanOrEqual(15);
    expect(summary.kvCache.median).toBeLessThanOrEqual(0.05);
  });

  it("predicts KV cache tokens within 5% median", () => {
    expect(summary.tokens.n).toBeGreaterThanOrEqual(8);
    expect(summary.tokens.median).toBeLessThanOrEqual(0.05);
  });

  it("turns the KV memory vLLM printed into the tokens it printed (page sizes and groups exact)", () => {
    const checked = rows.filter((r) => r.tokensFromObservedKv !== null && r.observed.kvCacheTokens !== null);
    expect(checked.length).toBeGreaterThanOrEqual(8);
    expect(checked.filter((r) => r.standardAttention).length).toBeGreaterThanOrEqual(5);
    for (const r of checked) {
      const observed = r.observed.kvCacheTokens as number;
      // the log rounds GiB to 2 decimals: +-0.005 GiB, plus one block per group
      const tolerance = (0.005 / (r.observed.kvCacheGiB as number)) * observed + 128;
      expect(Math.abs((r.tokensFromObservedKv as number) - observed), r.id).toBeLessThanOrEqual(tolerance);
    }
  });
});
