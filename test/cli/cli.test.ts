import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isolatedEnv, runCli } from "../helpers/run-cli.js";

describe("servepilot CLI", () => {
  it("prints its version and help with the exit-code table", () => {
    const version = runCli(["--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const help = runCli(["--help"]);
    expect(help.code).toBe(0);
    for (const command of ["detect", "gpus", "models", "inspect"]) expect(help.stdout).toContain(command);
    expect(help.stdout).toContain("3 GPU detection");
  });

  it("inspects a catalog model offline with the --json envelope", () => {
    const result = runCli(["inspect", "Qwen/Qwen3-8B", "--json"]);
    expect(result.code).toBe(0);
    const body = result.json();
    expect(body.success).toBe(true);
    expect(body.data.model.origin.kind).toBe("catalog");
    expect(body.data.architecture.attention).toMatchObject({ numHeads: 32, numKvHeads: 8, headDim: 128 });
    expect(Math.abs(body.data.params.total - 8.2e9) / 8.2e9).toBeLessThan(0.01);
    expect(body.data.params.active).toBe(body.data.params.total);
    // 36 layers x 8 KV heads x 256 x 2 bytes
    expect(body.data.kvCache.bytesPerToken).toBe(147_456);
    expect(body.data.model.attempts.map((a: { source: string }) => a.source)).toContain("hub");
  });

  it("finds catalog models by alias and reports MoE active parameters", () => {
    const result = runCli(["inspect", "qwen3-30b-a3b", "--json"]);
    expect(result.code).toBe(0);
    const { params } = result.json().data;
    expect(params.active).toBeLessThan(params.total / 5);
  });

  it("prints a human report without colour under NO_COLOR", () => {
    const result = runCli(["inspect", "deepseek-ai/DeepSeek-V3"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("MLA");
    expect(result.stdout).toMatch(/MTP module .* not included/);
    expect(result.stdout).not.toContain("\u001b[");
  });

  it("colours output when FORCE_COLOR is set and NO_COLOR is not", () => {
    const env = isolatedEnv({ FORCE_COLOR: "1" });
    delete env.NO_COLOR;
    expect(runCli(["inspect", "Qwen/Qwen3-8B"], env).stdout).toContain("\u001b[");
  });

  it("fails with exit 2 and a typed envelope for an unknown model", () => {
    const result = runCli(["inspect", "nobody/no-such-model", "--json"]);
    expect(result.code).toBe(2);
    const body = result.json();
    expect(body.success).toBe(false);
    expect(body.error.code).toBe("MODEL_NOT_FOUND");
    expect(typeof body.timestamp).toBe("string");
  });

  it("names the file and field of a bad local config.json, exit 2, no stack trace unless --debug", () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-model-"));
    writeFileSync(
      join(dir, "config.json"),
      JSON.stringify({
        model_type: "llama",
        hidden_size: 4096,
        num_hidden_layers: 32,
        num_attention_heads: 32,
        num_key_value_heads: "eight",
        vocab_size: 32000,
        intermediate_size: 11008,
      }),
    );
    const before = readdirSync(dir);
    const result = runCli(["inspect", dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `${dir}/config.json: num_key_value_heads must be a positive integer, got "eight"`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(readdirSync(dir)).toEqual(before);
    const debug = runCli(["inspect", dir, "--debug"]);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("rejects truncated JSON with the file name", () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-model-"));
    writeFileSync(join(dir, "config.json"), '{"model_type": "llama", "hidden_size": 40');
    const result = runCli(["inspect", dir, "--json"]);
    expect(result.code).toBe(2);
    expect(result.json().error.message).toContain("config.json");
  });

  it("rejects unknown options with exit 2", () => {
    const result = runCli(["gpus", "--frobnicate", "--json"]);
    expect(result.code).toBe(2);
    expect(result.json().error.code).toBe("INVALID_ARGUMENT");
  });

  it("lists the GPU and model catalogs", () => {
    const gpus = runCli(["gpus", "--json"]).json().data;
    expect(gpus.count).toBeGreaterThanOrEqual(35);
    const models = runCli(["models", "--json"]).json().data;
    expect(models.count).toBeGreaterThanOrEqual(60);
    const filtered = runCli(["models", "qwen3", "--json"]).json().data;
    expect(filtered.models.every((m: { id: string; family: string }) => /qwen3/i.test(m.id + m.family))).toBe(
      true,
    );
  });

  it("merges user catalog files over the built-ins and shows where entries come from", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-data-"));
    mkdirSync(join(dataDir, "models"));
    writeFileSync(
      join(dataDir, "models", "mine.yaml"),
      [
        "- id: acme/tiny-llama",
        "  family: acme",
        "  aliases: [tiny]",
        "  publishedParams: null",
        "  paramsSource: null",
        "  source: https://example.com/acme/tiny-llama/config.json",
        "  config: {model_type: llama, hidden_size: 512, intermediate_size: 1024, num_hidden_layers: 4, num_attention_heads: 8, vocab_size: 1000}",
      ].join("\n"),
    );
    const list = runCli(["models", "acme", "--json", "--data-dir", dataDir]).json().data;
    expect(list.models).toHaveLength(1);
    expect(list.models[0].origin).toEqual({ kind: "user", file: join(dataDir, "models", "mine.yaml") });
    const inspected = runCli(["inspect", "tiny", "--json", "--data-dir", dataDir]).json().data;
    expect(inspected.architecture.hiddenSize).toBe(512);
  });

  it("refuses an invalid user catalog file naming file, entry and field (exit 2)", () => {
    const dataDir = mkdtempSync(join(tmpdir(), "sp-data-"));
    mkdirSync(join(dataDir, "gpus"));
    writeFileSync(join(dataDir, "gpus", "bad.yaml"), "- id: my-gpu\n  vendor: intel\n");
    const result = runCli(["gpus", "--data-dir", dataDir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.yaml: entry 1 \(id "my-gpu"\), field vendor/);
    writeFileSync(join(dataDir, "gpus", "bad.yaml"), "- id: [unclosed\n");
    const yamlError = runCli(["gpus", "--data-dir", dataDir]);
    expect(yamlError.code).toBe(2);
    expect(yamlError.stderr).toMatch(/bad\.yaml:\d+: invalid YAML/);
  });
});
