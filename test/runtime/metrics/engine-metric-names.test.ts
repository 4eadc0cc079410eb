/** data/engine-metrics.yaml: valid, a source per engine, and names that match the engines' naming. */
import { describe, expect, it } from "vitest";
import { metricNamesOf } from "../../../src/core/metrics/engine-metrics.js";
import {
  loadEngineMetricMaps,
  parseEngineMetricMaps,
} from "../../../src/runtime/metrics/engine-metric-names.js";

describe("engine metric maps", () => {
  it("cover vLLM, SGLang and llama.cpp (and the embedded engine), each with its source and its own prefix", async () => {
    const maps = await loadEngineMetricMaps();
    expect(Object.keys(maps).sort()).toEqual(["embedded", "llamacpp", "sglang", "vllm"]);
    // the embedded engine writes llama-server's names: the same map
    expect(maps.embedded).toEqual(maps.llamacpp);
    for (const [engine, map] of Object.entries(maps)) {
      expect(map.source).toMatch(/^https:\/\/github\.com\//);
      const prefix = engine === "llamacpp" || engine === "embedded" ? "llamacpp:" : `${engine}:`;
      for (const name of metricNamesOf(map)) expect(name.startsWith(prefix), `${engine}: ${name}`).toBe(true);
      expect(map.promptTokens.length).toBeGreaterThan(0);
      expect(map.generationTokens.length).toBeGreaterThan(0);
    }
  });

  it("refuses a malformed file, naming the field", () => {
    expect(() => parseEngineMetricMaps({ vllm: { source: "nope" } }, "x.yaml")).toThrow(
      /x\.yaml: vllm\.source/,
    );
  });
});
