import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  checkArgv,
  type FlagProblemCode,
  type FlagRegistry,
  FlagRegistrySchema,
  parseFlagRegistry,
} from "../../../src/core/engines/flag-registry.js";
import { inVersionRange, parseLlamaCppBuild } from "../../../src/core/engines/select-release.js";
import { compareVersions } from "../../../src/core/engines/version.js";
import { ServepilotError } from "../../../src/core/errors.js";
import type { EngineName } from "../../../src/core/memory/types.js";
import { renderServeArgv, type ServeConfig } from "../../../src/core/render/serve-command.js";

const root = new URL("../../../", import.meta.url);
const readYaml = (path: string): unknown => parse(readFileSync(new URL(path, root), "utf8"));
const load = (engine: EngineName): FlagRegistry =>
  parseFlagRegistry(readYaml(`data/engines/flags/${engine}.yaml`), `${engine}.yaml`);
const registries = { vllm: load("vllm"), sglang: load("sglang"), llamacpp: load("llamacpp") };

const SKIP: Record<EngineName, number> = { vllm: 3, sglang: 3, llamacpp: 1 };
const PROGRAM: Record<EngineName, string[]> = {
  vllm: ["vllm", "serve", "Qwen/Qwen3-8B"],
  sglang: ["python3", "-m", "sglang.launch_server"],
  llamacpp: ["llama-server"],
};

function check(engine: EngineName, flags: string[], version?: string) {
  return checkArgv(registries[engine], [...PROGRAM[engine], ...flags], {
    engine,
    skip: SKIP[engine],
    ...(version === undefined ? {} : { version }),
  });
}
const codes = (engine: EngineName, flags: string[], version?: string): FlagProblemCode[] =>
  check(engine, flags, version).map((p) => p.code);

describe("data/engines/flags/*.yaml", () => {
  it.each(["vllm", "sglang", "llamacpp"] as const)("%s.yaml validates and names its engine", (engine) => {
    const registry = registries[engine];
    expect(registry.engine).toBe(engine);
    expect(registry.flags.length).toBeGreaterThanOrEqual(50);
    expect(registry.source).toMatch(/^https:\/\/github\.com\/.+\/(blob\/[0-9a-f]{40}|blob\/b\d+)\/.+/);
  });

  it("covers the oldest release servepilot has memory data for", () => {
    const vllmFrom = (readYaml("data/engines/vllm.yaml") as Array<{ from: string }>).map((e) => e.from);
    const oldestVllm = vllmFrom.sort(compareVersions)[0] as string;
    expect(inVersionRange(registries.vllm.versions, oldestVllm, compareVersions)).toBe(true);
    const lowest = (file: string) =>
      (readYaml(file) as Array<{ versions: string }>).flatMap((e) =>
        [...e.versions.matchAll(/>=(\S+)/g)].map((m) => m[1] as string),
      );
    for (const v of lowest("data/engines/sglang.yaml")) {
      expect(inVersionRange(registries.sglang.versions, v, compareVersions)).toBe(true);
    }
    const build = (a: string, b: string) => parseLlamaCppBuild(a) - parseLlamaCppBuild(b);
    for (const v of lowest("data/engines/llamacpp.yaml")) {
      expect(inVersionRange(registries.llamacpp.versions, v, build)).toBe(true);
    }
  });

  it("refuses malformed registries with the file and field named", () => {
    const base = { engine: "vllm", source: "https://example.com/x", versions: ">=0.8.0" };
    const syntax = { equalsValue: true, underscoreNames: true, dottedJsonKeys: false, greedyValues: false };
    const bad = (flags: unknown[]) => () => parseFlagRegistry({ ...base, syntax, flags }, "bad.yaml");
    expect(bad([{ name: "--dtype", kind: "choice" }])).toThrow(/bad\.yaml .*kind choice needs choices/);
    expect(bad([{ name: "--x", kind: "boolean", type: "int" }])).toThrow(/a boolean takes no value/);
    expect(bad([{ name: "--x", kind: "value" }])).toThrow(/needs a type/);
    expect(bad([{ name: "--x", kind: "value", type: "int", negation: "--no-x" }])).toThrow(/negation/);
    expect(bad([{ name: "port", kind: "value", type: "int" }])).toThrow(/a flag such as/);
    expect(bad([{ name: "--x", kind: "value", type: "int", since: "b7475" }])).toThrow(
      /not a release number/,
    );
    expect(
      bad([
        { name: "--x", kind: "boolean" },
        { name: "--y", aliases: ["--x"], kind: "boolean" },
      ]),
    ).toThrow(/--x is listed twice/);
    try {
      bad([{ name: "--x", kind: "value" }])();
    } catch (error) {
      expect(error).toBeInstanceOf(ServepilotError);
      expect((error as ServepilotError).code).toBe("INVALID_DATA_FILE");
    }
    expect(FlagRegistrySchema.safeParse({ ...base, syntax, flags: [] }).success).toBe(false);
  });
});

describe("checkArgv: values and choices", () => {
  it("accepts a typical vLLM command", () => {
    const flags = [
      "--tensor-parallel-size",
      "2",
      "--max-model-len",
      "32768",
      "--gpu-memory-utilization",
      "0.92",
      "--dtype",
      "bfloat16",
      "--kv-cache-dtype",
      "fp8",
      "--quantization",
      "fp8",
      "--enable-prefix-caching",
      "--served-model-name",
      "qwen",
      "qwen3",
      "--port",
      "8001",
    ];
    expect(check("vllm", flags)).toEqual([]);
    expect(check("vllm", flags, "0.11.0")).toEqual([]);
  });

  it("refuses spellings vLLM does not have", () => {
    expect(codes("vllm", ["--dtype", "fp16"])).toEqual(["invalid-choice"]);
    expect(codes("vllm", ["--kv-cache-dtype", "fp8_e4m3fn"])).toEqual(["invalid-choice"]);
    expect(codes("vllm", ["--quantization", "int8"])).toEqual(["invalid-choice"]);
    expect(codes("vllm", ["-q", "int8"])).toEqual(["invalid-choice"]);
    const [problem] = check("vllm", ["--dtype", "fp16"], "0.11.0");
    expect(problem).toMatchObject({ index: 4, arg: "fp16", flag: "--dtype" });
    expect(problem?.message).toContain("auto, half, float16, bfloat16, float, float32");
  });

  it("reports unknown flags with a suggestion and skips their values", () => {
    const problems = check("vllm", ["--max-modle-len", "4096", "--port", "8000"]);
    expect(problems.map((p) => p.code)).toEqual(["unknown-flag"]);
    expect(problems[0]?.message).toContain("did you mean --max-model-len?");
    expect(codes("sglang", ["--gpu-memory-utilization", "0.9"])).toEqual(["unknown-flag"]);
    expect(codes("llamacpp", ["--tensor-parallel-size", "2"])).toEqual(["unknown-flag"]);
  });

  it("checks value types", () => {
    expect(codes("vllm", ["--max-num-seqs", "many"])).toEqual(["invalid-value"]);
    expect(codes("vllm", ["--gpu-memory-utilization", "ninety"])).toEqual(["invalid-value"]);
    expect(codes("vllm", ["--gpu-memory-utilization", "9e-1", "--max-model-len", "32k"])).toEqual([]);
    expect(codes("vllm", ["--max-model-len", "1.5K"])).toEqual(["invalid-value"]);
    expect(codes("vllm", ["--max-model-len", "-1"])).toEqual([]);
    expect(codes("sglang", ["--chunked-prefill-size", "-1"])).toEqual([]);
  });

  it("accepts llama.cpp cache types by their ggml names only", () => {
    expect(codes("llamacpp", ["--cache-type-k", "q8_0", "-ctv", "q8_0", "-fa", "on"])).toEqual([]);
    expect(codes("llamacpp", ["--cache-type-k", "fp8"])).toEqual(["invalid-choice"]);
    expect(codes("llamacpp", ["-ctk", "Q8_0"])).toEqual(["invalid-choice"]);
  });

  it("knows SGLang's KV cache spellings", () => {
    expect(codes("sglang", ["--kv-cache-dtype", "fp8_e4m3", "--tp", "2", "--dp", "2"])).toEqual([]);
    expect(codes("sglang", ["--kv-cache-dtype", "fp8"])).toEqual(["invalid-choice"]);
    expect(codes("sglang", ["--kv-cache-dtype", "float16"])).toEqual(["invalid-choice"]);
  });
});

describe("checkArgv: argument syntax", () => {
  it("reads --flag=value where the parser does, and refuses it in llama-server", () => {
    expect(codes("vllm", ["--tensor-parallel-size=4", "--dtype=half"])).toEqual([]);
    expect(codes("vllm", ["--dtype=fp16"])).toEqual(["invalid-choice"]);
    expect(codes("sglang", ["--tp-size=4"])).toEqual([]);
    const problems = check("llamacpp", ["--port=8080"]);
    expect(problems.map((p) => p.code)).toEqual(["unknown-flag"]);
    expect(problems[0]?.message).toContain("pass the value as the next argument");
  });

  it("follows each engine's underscore rule", () => {
    expect(codes("vllm", ["--max_model_len", "4096"])).toEqual([]);
    expect(codes("llamacpp", ["--ctx_size", "4096"])).toEqual([]);
    expect(codes("sglang", ["--tp_size", "2"])).toEqual(["unknown-flag"]);
  });

  it("takes vLLM dotted JSON keys for JSON flags only", () => {
    expect(codes("vllm", ["--compilation-config.cudagraph_mode", "FULL"])).toEqual([]);
    expect(codes("vllm", ["--speculative-config.num_speculative_tokens=3"])).toEqual([]);
    expect(codes("vllm", ["--max-model-len.x", "3"])).toEqual(["unknown-flag"]);
  });

  it("refuses a value given to a switch", () => {
    expect(codes("vllm", ["--enforce-eager=true"])).toEqual(["unexpected-value"]);
    const problems = check("vllm", ["--enforce-eager", "true", "--port", "1"]);
    expect(problems).toMatchObject([
      { code: "unexpected-value", index: 4, arg: "true", flag: "--enforce-eager" },
    ]);
    expect(codes("vllm", ["--no-enable-prefix-caching", "--trust-remote-code"])).toEqual([]);
    expect(codes("sglang", ["--trust-remote-code", "1"])).toEqual(["unexpected-value"]);
  });

  it("reports missing values", () => {
    expect(codes("vllm", ["--port"])).toEqual(["missing-value"]);
    expect(codes("vllm", ["--tensor-parallel-size", "--enforce-eager"])).toEqual(["missing-value"]);
    expect(codes("vllm", ["--api-key"])).toEqual(["missing-value"]);
    expect(codes("vllm", ["--hf-token", "--port", "8000"])).toEqual([]); // nargs "?"
    // llama-server takes the next item whatever it looks like: here "--port" is not an integer
    expect(codes("llamacpp", ["-ngl", "--port", "8080"])).toEqual(["invalid-value", "unexpected-argument"]);
    expect(codes("llamacpp", ["-c"])).toEqual(["missing-value"]);
  });

  it("reports stray positional arguments", () => {
    expect(codes("vllm", ["extra"])).toEqual(["unexpected-argument"]);
    expect(codes("llamacpp", ["model.gguf"])).toEqual(["unexpected-argument"]);
  });

  it("starts after the skipped items", () => {
    const argv = ["vllm", "serve", "--not-a-flag", "--port", "8000"];
    expect(checkArgv(registries.vllm, argv, { engine: "vllm", skip: 3 })).toEqual([]);
    expect(checkArgv(registries.vllm, argv, { engine: "vllm", skip: 2 }).map((p) => p.code)).toEqual([
      "unknown-flag",
    ]);
  });
});

describe("checkArgv: releases", () => {
  it("knows when vLLM flags arrived and left", () => {
    expect(codes("vllm", ["--swap-space", "4"], "0.10.0")).toEqual([]);
    expect(codes("vllm", ["--swap-space", "4"], "0.18.0")).toEqual(["no-longer-available"]);
    expect(codes("vllm", ["--kv-cache-memory-bytes", "20G"], "0.10.0")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["--kv-cache-memory-bytes", "20G"], "0.11.0")).toEqual([]);
    expect(codes("vllm", ["--task", "generate"], "0.12.0")).toEqual([]);
    expect(codes("vllm", ["--task", "generate"], "0.13.0")).toEqual(["no-longer-available"]);
  });

  it("dates aliases, negations and values separately", () => {
    expect(codes("vllm", ["-ep"], "0.13.0")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["-ep", "--enable-expert-parallel"], "0.14.0")).toEqual([]);
    expect(codes("vllm", ["--no-enforce-eager"], "0.8.5")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["--no-enforce-eager"], "0.9.0")).toEqual([]);
    expect(codes("vllm", ["--kv-cache-dtype", "fp8_inc"], "0.9.2")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["--kv-cache-dtype", "fp8_inc"], "0.10.0")).toEqual([]);
    expect(codes("vllm", ["--quantization", "aqlm"], "0.10.2")).toEqual(["no-longer-available"]);
    expect(codes("vllm", ["--max-model-len", "auto"], "0.13.0")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["--max-model-len", "auto"], "0.14.0")).toEqual([]);
    expect(codes("llamacpp", ["-ngl", "auto"], "b7475")).toEqual(["not-yet-available"]);
    expect(codes("llamacpp", ["-ngl", "all", "-sm", "tensor"], "b10573")).toEqual([]);
    expect(codes("llamacpp", ["--mmap"], "b7000")).toEqual(["not-yet-available"]);
  });

  it("opens a choice list from the release that stopped restricting it", () => {
    expect(codes("vllm", ["--block-size", "48"], "0.11.0")).toEqual(["invalid-choice"]);
    expect(codes("vllm", ["--block-size", "48"], "0.17.0")).toEqual([]);
    expect(codes("vllm", ["--block-size", "48"])).toEqual([]);
    expect(codes("vllm", ["--block-size", "256"], "0.11.0")).toEqual(["not-yet-available"]);
    expect(codes("vllm", ["--block-size", "big"], "0.17.0")).toEqual(["invalid-value"]);
  });

  it("ignores release bounds when no release is given", () => {
    expect(codes("vllm", ["--swap-space", "4", "--kv-cache-dtype", "nvfp4", "-ep"])).toEqual([]);
  });

  it("says when the release is outside the registry", () => {
    expect(codes("vllm", ["--port", "8000"], "0.7.3")).toEqual(["version-not-covered"]);
    expect(codes("llamacpp", ["--port", "8000"], "b5000")).toEqual(["version-not-covered"]);
    expect(() => check("vllm", [], "latest")).toThrow(ServepilotError);
    expect(() => check("llamacpp", [], "0.11.0")).toThrow(ServepilotError);
  });

  it("refuses a registry of another engine", () => {
    expect(() => checkArgv(registries.vllm, ["llama-server"], { engine: "llamacpp", skip: 1 })).toThrow(
      /vllm flag registry cannot check a llamacpp command/,
    );
  });
});

describe("checkArgv: properties", () => {
  it("never throws on arbitrary argv and reports only known codes", () => {
    const item = fc.oneof(
      fc.string(),
      fc.constantFrom("--port", "--dtype", "-tp", "--enforce-eager", "--x=1", "--", "-", "-1", "--api-key"),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<EngineName>("vllm", "sglang", "llamacpp"),
        fc.array(item),
        (engine, argv) => {
          const problems = checkArgv(registries[engine], argv, { engine, skip: 0 });
          for (const p of problems) expect(p.index).toBeLessThan(argv.length);
        },
      ),
    );
  });

  it("accepts any integer for integer flags", () => {
    const intFlags = registries.vllm.flags.filter((f) => f.kind === "value" && f.type === "int" && !f.nargs);
    fc.assert(
      fc.property(fc.constantFrom(...intFlags), fc.integer(), (flag, n) => {
        expect(codes("vllm", [flag.name, String(n)])).toEqual([]);
      }),
    );
  });
});

describe("renderServeArgv output passes the registries", () => {
  const base: ServeConfig = {
    engine: "vllm",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    tensorParallelSize: 1,
    pipelineParallelSize: 1,
    maxModelLen: 8192,
    gpuMemoryUtilization: 0.9,
    dtype: "auto",
    onlineQuantization: null,
    kvCacheDtype: "auto",
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    blockSize: 16,
    enforceEager: false,
    defaults: { gpuMemoryUtilization: 0.9, maxNumSeqs: 256, maxNumBatchedTokens: 8192, blockSize: 16 },
  };
  const variants: Array<[string, Partial<ServeConfig>]> = [
    ["TP 1", {}],
    ["TP 2", { tensorParallelSize: 2, port: 8001 }],
    ["TP 8 x PP 2", { tensorParallelSize: 8, pipelineParallelSize: 2 }],
    ["fp8 KV", { kvCacheDtype: "fp8" }],
    ["fp8_e5m2 KV", { kvCacheDtype: "fp8_e5m2" }],
    ["online fp8", { onlineQuantization: "fp8", dtype: "bfloat16" }],
    ["enforce eager", { enforceEager: true, dtype: "float16" }],
    ["non-default batch", { maxNumSeqs: 64, maxNumBatchedTokens: 2048, blockSize: 32 }],
  ];
  const engines: Array<[EngineName, Partial<ServeConfig>, string[]]> = [
    ["vllm", {}, ["0.8.0", "0.11.0", "0.21.0"]],
    ["sglang", { maxNumSeqs: 128, blockSize: 1 }, ["0.4.7", "0.5.9"]],
    [
      "llamacpp",
      { model: "/models/llama-3.1-8b-q4_k_m.gguf", maxNumSeqs: 4, kvCacheDtype: "f16" },
      ["b6981", "b10573"],
    ],
  ];
  for (const [engine, overrides, versions] of engines) {
    it.each(variants)(`${engine}: %s`, (_label, variant) => {
      const config: ServeConfig = { ...base, ...overrides, ...variant, engine };
      if (engine === "llamacpp" && config.kvCacheDtype.startsWith("fp8")) config.kvCacheDtype = "q8_0";
      const argv = renderServeArgv(config);
      for (const version of [undefined, ...versions]) {
        const options = { engine, skip: SKIP[engine], ...(version === undefined ? {} : { version }) };
        expect(checkArgv(registries[engine], argv, options), `${argv.join(" ")} @ ${version}`).toEqual([]);
      }
    });
  }

  it("the checks catch a renderer mistake", () => {
    const argv = renderServeArgv({ ...base, dtype: "fp16", kvCacheDtype: "fp8_e4m3fn" });
    expect(checkArgv(registries.vllm, argv, { engine: "vllm", skip: 3 }).map((p) => p.arg)).toEqual([
      "fp16",
      "fp8_e4m3fn",
    ]);
  });
});
