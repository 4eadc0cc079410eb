import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { summarizeGguf } from "../../../src/runtime/models/summarize-gguf.js";

describe("summarizeGguf", () => {
  const tensor = (name: string, dtype: number) => ({ name, n_dims: 2, shape: [32n, 4n], dtype, offset: 0n });

  it("keeps small values, turns 64-bit integers into numbers and summarizes huge ones", () => {
    const summary = summarizeGguf(
      [
        {
          metadata: {
            version: 3,
            tensor_count: 2n,
            kv_count: 5n,
            "general.architecture": "llama",
            "llama.attention.head_count_kv": [8, 8, 0, 8],
            "tokenizer.ggml.tokens": Array.from({ length: 5000 }, (_, i) => `t${i}`),
            "tokenizer.huggingface.json": "x".repeat(300_000),
            "big.counter": 2n ** 60n,
          } as never,
          tensorInfos: [tensor("a", 12), tensor("b", 99)],
        },
      ],
      1234,
      "m.gguf",
    );
    expect(summary).toEqual({
      architecture: "llama",
      metadata: {
        version: 3,
        tensor_count: 2,
        kv_count: 5,
        "general.architecture": "llama",
        "llama.attention.head_count_kv": [8, 8, 0, 8],
        "tokenizer.ggml.tokens": { omitted: "array", length: 5000 },
        "tokenizer.huggingface.json": { omitted: "string", length: 300_000 },
        "big.counter": "1152921504606846976",
      },
      tensors: [
        { name: "a", shape: [32, 4], ggmlType: "Q4_K" },
        { name: "b", shape: [32, 4], ggmlType: "UNKNOWN_99" },
      ],
      fileSizeBytes: 1234,
    });
  });

  it("refuses a file without general.architecture", () => {
    const error = (() => {
      try {
        summarizeGguf([{ metadata: { version: 3 } as never, tensorInfos: [] }], null, "x.gguf");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ServepilotError);
    expect(error).toMatchObject({
      code: "INVALID_MODEL_CONFIG",
      message: "x.gguf: GGUF metadata has no general.architecture",
    });
  });
});
