import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { runCli } from "../helpers/run-cli.js";

function outDir(): string {
  return join(mkdtempSync(join(tmpdir(), "sp-gen-")), "out");
}

describe("servepilot generate", () => {
  it("writes the default set: engine command, docker, compose, Kubernetes, Helm values, profile, plan.json", () => {
    const dir = outDir();
    const result = runCli(["generate", "Qwen/Qwen3-8B", "--gpu", "H100", "-o", dir, "--json"]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(
      [
        "compose.yaml",
        "docker-run.sh",
        "helm-values.yaml",
        "kubernetes.yaml",
        "plan.json",
        "profile.yaml",
        "serve.sh",
      ].sort(),
    );
    expect(statSync(join(dir, "serve.sh")).mode & 0o111).not.toBe(0);
    for (const file of ["compose.yaml", "kubernetes.yaml", "helm-values.yaml", "profile.yaml"]) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, file), "utf8")))
        expect(doc.errors, file).toEqual([]);
    }
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    expect(plan.artifacts.serveArgv[0]).toBe("vllm");
  });

  it("reproduces the same plan from the generated profile (round trip)", () => {
    const dir = outDir();
    runCli([
      "generate",
      "qwen3-32b",
      "--gpu",
      "L40S",
      "--gpus",
      "2",
      "--max-model-len",
      "16384",
      "--kv-cache-dtype",
      "fp8",
      "--concurrency",
      "8",
      "--engine-version",
      "0.11.0",
      "-o",
      dir,
    ]);
    const generated = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    const replanned = runCli(["plan", "--profile", join(dir, "profile.yaml"), "--json"]).json().data;
    expect(replanned).toEqual(generated);
  });

  it("keeps existing files unless --force, and writes nothing on a conflict", () => {
    const dir = outDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "compose.yaml"), "mine\n");
    const result = runCli(["generate", "Qwen/Qwen3-8B", "--gpu", "H100", "-o", dir, "--json"]);
    expect(result.code).toBe(2);
    expect(result.json().error.message).toMatch(/compose\.yaml already exist; nothing was written/);
    expect(readdirSync(dir)).toEqual(["compose.yaml"]);
    expect(readFileSync(join(dir, "compose.yaml"), "utf8")).toBe("mine\n");
    expect(runCli(["generate", "Qwen/Qwen3-8B", "--gpu", "H100", "-o", dir, "--force"]).code).toBe(0);
    expect(readFileSync(join(dir, "compose.yaml"), "utf8")).not.toBe("mine\n");
  });

  it("writes multi-node artifacts when one node is not enough", () => {
    const dir = outDir();
    const result = runCli([
      "generate",
      "deepseek-ai/DeepSeek-V3",
      "--gpu",
      "H100",
      "--nodes",
      "2",
      "--gpus-per-node",
      "8",
      "--max-model-len",
      "32768",
      "-o",
      dir,
    ]);
    expect(result.code).toBe(0);
    expect(readdirSync(dir)).toContain("leaderworkerset.yaml");
    expect(readFileSync(join(dir, "ray-multinode.sh"), "utf8")).toMatch(/ray start --head/);
  });

  it("quotes hostile model paths so the shell gives back the exact argv", () => {
    const parent = mkdtempSync(join(tmpdir(), "sp-hostile-"));
    const model = join(parent, `my "model" $HOME's dir`);
    mkdirSync(model);
    writeFileSync(
      join(model, "config.json"),
      JSON.stringify({
        model_type: "llama",
        hidden_size: 512,
        intermediate_size: 1024,
        num_hidden_layers: 4,
        num_attention_heads: 8,
        vocab_size: 1000,
        max_position_embeddings: 4096,
      }),
    );
    const dir = outDir();
    expect(runCli(["generate", model, "--gpu", "L4", "-o", dir, "--emit", "serve,docker,plan"]).code).toBe(0);
    const plan = JSON.parse(readFileSync(join(dir, "plan.json"), "utf8"));
    const script = readFileSync(join(dir, "serve.sh"), "utf8").replace(/^exec /m, "printf '%s\\n' ");
    const printed = spawnSync("sh", ["-c", script], {
      encoding: "utf8",
      env: { HOME: "/nowhere", PATH: process.env.PATH },
    });
    expect(printed.stdout.trimEnd().split("\n")).toEqual([...plan.artifacts.serveArgv, "--port", "8000"]);
    expect(plan.artifacts.serveArgv[2]).toBe(model);
  });

  it("refuses an unknown --emit kind (exit 2)", () => {
    const result = runCli([
      "generate",
      "Qwen/Qwen3-8B",
      "--gpu",
      "H100",
      "-o",
      outDir(),
      "--emit",
      "serve,terraform",
      "--json",
    ]);
    expect(result.code).toBe(2);
    expect(result.json().error.message).toMatch(/--emit takes a comma-separated list of serve, docker/);
  });
});
