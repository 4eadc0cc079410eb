import { describe, expect, it } from "vitest";
import { schedulerPolicy } from "../../../src/core/perf/scheduler.js";

const dense = { mla: false, maxNumBatchedTokens: 8192, maxModelLen: 131072 };

describe("scheduler policy per engine release", () => {
  it("vLLM V1 (0.8.0 on, and the newest when no version is given) schedules decodes first", () => {
    for (const version of [null, "0.8.0", "0.11.0", "0.9.1"]) {
      const p = schedulerPolicy("vllm", version, dense);
      expect(p.order).toBe("decode-first");
      expect(p.chunked).toBe(true);
      expect(p.tokenBudget).toBe(8192);
    }
  });

  it("vLLM V0 with MLA prefills waiting prompts first without chunking", () => {
    const p = schedulerPolicy("vllm", "0.7.3.dev138+g21f6ca217", { ...dense, mla: true, maxModelLen: 32768 });
    expect(p).toMatchObject({ order: "prefill-first", chunked: false, tokenBudget: 32768 });
  });

  it("vLLM V0 turns chunked prefill on for contexts over 32K (512-token budget), off below", () => {
    expect(schedulerPolicy("vllm", "0.6.0", dense)).toMatchObject({
      order: "decode-first",
      chunked: true,
      tokenBudget: 512,
    });
    expect(schedulerPolicy("vllm", "0.6.6", { ...dense, maxModelLen: 4096 })).toMatchObject({
      order: "prefill-first",
      chunked: false,
      tokenBudget: 4096,
    });
  });

  it("SGLang prefills first in chunks; llama-server and TensorRT-LLM decode first", () => {
    expect(schedulerPolicy("sglang", "0.4.3", dense)).toMatchObject({
      order: "prefill-first",
      chunked: true,
    });
    expect(schedulerPolicy("llamacpp", null, { ...dense, maxNumBatchedTokens: 2048 })).toMatchObject({
      order: "decode-first",
      tokenBudget: 2048,
    });
    expect(schedulerPolicy("trtllm", null, { ...dense, maxNumBatchedTokens: 2048 }).tokenBudget).toBe(8192);
  });
});
