import { describe, expect, it } from "vitest";
import { chooseGgufFile } from "../../../src/runtime/models/choose-gguf-file.js";

describe("chooseGgufFile", () => {
  const files = [
    "README.md",
    "Qwen3-8B-Q8_0.gguf",
    "Qwen3-8B-Q4_K_M.gguf",
    "Qwen3-8B-BF16.gguf",
    "mmproj-Qwen3-F16.gguf",
    "BF16/Qwen3-8B-BF16-00002-of-00002.gguf",
    "BF16/Qwen3-8B-BF16-00001-of-00002.gguf",
  ];

  it("prefers Q4_K_M and ignores projector files", () => {
    expect(chooseGgufFile(files)).toEqual({
      kind: "chosen",
      file: "Qwen3-8B-Q4_K_M.gguf",
      shardFiles: ["Qwen3-8B-Q4_K_M.gguf"],
    });
    expect(chooseGgufFile(["mmproj-F16.gguf", "README.md"])).toEqual({ kind: "none" });
  });

  it("groups the shards of a split file under its first shard", () => {
    expect(chooseGgufFile(files, "BF16/")).toEqual({
      kind: "chosen",
      file: "BF16/Qwen3-8B-BF16-00001-of-00002.gguf",
      shardFiles: ["BF16/Qwen3-8B-BF16-00001-of-00002.gguf", "BF16/Qwen3-8B-BF16-00002-of-00002.gguf"],
    });
  });

  it("matches a requested quantization case-insensitively, or lists what exists", () => {
    expect(chooseGgufFile(files, "q8_0")).toMatchObject({ kind: "chosen", file: "Qwen3-8B-Q8_0.gguf" });
    expect(chooseGgufFile(files, "IQ2_XS")).toEqual({
      kind: "no-match",
      available: [
        "BF16/Qwen3-8B-BF16-00001-of-00002.gguf",
        "Qwen3-8B-BF16.gguf",
        "Qwen3-8B-Q4_K_M.gguf",
        "Qwen3-8B-Q8_0.gguf",
      ],
    });
  });
});
