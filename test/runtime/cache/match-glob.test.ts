import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileGlob, createFileFilter } from "../../../src/runtime/cache/match-glob.js";

describe("compileGlob (fnmatch semantics, as huggingface_hub's allow/ignore patterns)", () => {
  it.each([
    ["*.gguf", "model-Q4_K_M.gguf", true],
    ["*.gguf", "sub/model.gguf", true], // fnmatch's * crosses '/'
    ["*.gguf", "model.gguf.part", false],
    ["*Q4_K_M*", "Qwen3-8B-Q4_K_M.gguf", true],
    ["*q4_k_m*", "Qwen3-8B-Q4_K_M.gguf", false], // case-sensitive
    ["model-0000?-of-00002.safetensors", "model-00001-of-00002.safetensors", true],
    ["[!a]*.txt", "a.txt", false],
    ["[!a]*.txt", "b.txt", true],
    ["[0-9].bin", "7.bin", true],
    ["original/", "original/consolidated.pth", true],
    ["original/", "originalx", false],
    ["config.json", "config.json", true],
    ["config.json", "configxjson", false],
    ["a+b(c).txt", "a+b(c).txt", true],
  ])("%s matches %s: %s", (pattern, path, expected) => {
    expect(compileGlob(pattern).test(path)).toBe(expected);
  });

  it("a pattern without wildcards matches exactly itself", () => {
    const plain = fc.stringMatching(/^[A-Za-z0-9._/()+$^{}|-]{1,30}$/);
    fc.assert(
      fc.property(plain, plain, (a, b) => {
        expect(compileGlob(a).test(a)).toBe(true);
        expect(compileGlob(a).test(b)).toBe(a === b || (a.endsWith("/") && b.startsWith(a)));
      }),
    );
  });

  it("`*` + a suffix matches exactly the paths ending with the suffix", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z./]{0,12}$/),
        fc.stringMatching(/^[a-z.]{1,6}$/),
        (path, suffix) => {
          expect(compileGlob(`*${suffix}`).test(path)).toBe(path.endsWith(suffix));
        },
      ),
    );
  });
});

describe("createFileFilter", () => {
  it("keeps everything without patterns, and applies exclude after include", () => {
    expect(createFileFilter({ include: [], exclude: [] })("x")).toBe(true);
    const keep = createFileFilter({ include: ["*.gguf", "*.json"], exclude: ["*Q8*"] });
    expect(["a-Q4.gguf", "a-Q8.gguf", "config.json", "model.safetensors"].filter(keep)).toEqual([
      "a-Q4.gguf",
      "config.json",
    ]);
  });
});
