/**
 * `launch`, `status`, `logs`, `stop` and `list running` as separate CLI processes (the CLI exits
 * between launch and stop), with the vLLM emulator as `vllm` and captured nvidia-smi output.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { processGroupMembers } from "../../src/runtime/supervisor/process-identity.js";
import { fakeToolsEnv } from "../helpers/fake-gpu-tools.js";
import { runCli, runCliAsync } from "../helpers/run-cli.js";
import { EMULATOR } from "../runtime/engines/emulator-process.js";

function env(extra: NodeJS.ProcessEnv = {}) {
  return fakeToolsEnv("h100-sxm-8x-nvlink.json", {
    SERVEPILOT_VLLM_BIN: EMULATOR,
    EMULATOR_LINE_DELAY_MS: "0",
    SERVEPILOT_HOME: mkdtempSync(join(tmpdir(), "sp-cli-launch-")),
    ...extra,
  });
}

describe("servepilot launch / status / logs / stop", () => {
  it("launch --detach returns a ready instance that later CLI processes see and stop", async () => {
    const e = env();
    const launched = await runCliAsync(["launch", "Qwen/Qwen3-8B", "--offline", "--detach", "--json"], e);
    expect(launched.code, launched.stderr).toBe(0);
    const data = launched.json().data;
    expect(data).toMatchObject({
      name: "qwen3-8b",
      engine: "vllm",
      recipeId: "qwen3-8b-h100-bf16-throughput",
      precision: "bf16",
      status: "ready",
      endpoint: `http://127.0.0.1:${data.port}`,
    });
    expect(data.gpus).toHaveLength(1);
    expect(typeof data.pid).toBe("number");

    const status = runCli(["status", "--json"], e);
    expect(status.code).toBe(0);
    expect(status.json().data.instances[0]).toMatchObject({
      name: "qwen3-8b",
      status: "ready",
      alive: true,
      healthy: true,
    });

    const running = runCli(["list", "running", "--format", "json"], e);
    expect(running.json().data.count).toBe(1);

    const logs = runCli(["logs", "qwen3-8b", "-n", "5"], e);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain("Application startup complete.");

    const stop = runCli(["stop", "qwen3-8b", "--json"], e);
    expect(stop.code).toBe(0);
    expect(stop.json().data).toMatchObject({
      wasRunning: true,
      signal: "SIGTERM",
      remaining: [],
      status: "stopped",
    });
    expect(await processGroupMembers(data.pid)).toEqual([]);

    const after = runCli(["status", "qwen3-8b"], e);
    expect(after.stdout).toMatch(/qwen3-8b\s+stopped/);
    expect(runCli(["list", "running"], e).stdout).toBe("nothing is running\n");
  });

  it("a failed launch exits 4 with the cause and the planner's fix", async () => {
    const e = env({ EMULATOR_SCENARIO: "max-model-len" });
    const result = await runCliAsync(["launch", "Qwen/Qwen3-8B", "--offline", "--detach"], e);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/error qwen3-8b: ValueError: To serve at least one request/);
    expect(result.stderr).toMatch(/--max-model-len 411856/);
    const json = await runCliAsync(["launch", "Qwen/Qwen3-8B", "--offline", "--detach", "--json"], e);
    expect(json.code).toBe(4);
    expect(json.json().error.details.cause).toBe("max-model-len-too-large");
  });

  it("--dry-run prints the exact command and starts nothing", () => {
    const e = env();
    const result = runCli(
      ["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run", "--max-model-len", "8192"],
      e,
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dry run: would start qwen3-8b/);
    expect(result.stdout).toContain("--max-model-len 8192");
    expect(result.stdout).toMatch(/CUDA_VISIBLE_DEVICES=GPU-/);
    expect(runCli(["status", "--json"], e).json().data.count).toBe(0);
  });

  it("bad input is refused with exit 2 and the flag named", () => {
    const e = env();
    expect(runCli(["launch", "Qwen/Qwen3-8B", "--engine", "tgi"], e).stderr).toMatch(/--engine/);
    expect(runCli(["launch", "Qwen/Qwen3-8B", "--engine", "tgi"], e).code).toBe(2);
    expect(runCli(["launch", "Qwen/Qwen3-8B", "zero"], e).code).toBe(2);
    const tooMany = runCli(["launch", "Qwen/Qwen3-8B", "9", "--offline", "--dry-run"], e);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toMatch(/gpu_count 9: this machine has 8 GPUs \(8 free\)/);
    const unknown = runCli(["stop", "nope"], e);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no instance named "nope"/);
    expect(runCli(["logs", "nope"], e).code).toBe(2);
  });

  it("reads defaults from the config file and SERVEPILOT_* variables, flags winning", () => {
    const home = mkdtempSync(join(tmpdir(), "sp-config-"));
    writeFileSync(join(home, "config.yaml"), "port: 9100\ntimeout: 77\n");
    const fromFile = runCli(
      ["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run", "--json"],
      env({ SERVEPILOT_HOME: home }),
    );
    expect(fromFile.json().data).toMatchObject({ port: 9100, timeoutSeconds: 77 });
    const fromEnv = runCli(
      ["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run", "--json"],
      env({ SERVEPILOT_HOME: home, SERVEPILOT_PORT: "9200", SERVEPILOT_TIMEOUT: "88" }),
    );
    expect(fromEnv.json().data).toMatchObject({ port: 9200, timeoutSeconds: 88 });
    const fromFlags = runCli(
      ["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run", "--json", "--port", "9300", "--timeout", "99"],
      env({ SERVEPILOT_HOME: home, SERVEPILOT_PORT: "9200" }),
    );
    expect(fromFlags.json().data).toMatchObject({ port: 9300, timeoutSeconds: 99 });

    writeFileSync(join(home, "config.yaml"), "port: 9100\nprot: 1\n");
    const bad = runCli(["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run"], env({ SERVEPILOT_HOME: home }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config\.yaml: .*prot/);
    const badEnv = runCli(
      ["launch", "Qwen/Qwen3-8B", "--offline", "--dry-run"],
      env({ SERVEPILOT_PORT: "http" }),
    );
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toMatch(/SERVEPILOT_PORT=http: expected a port number/);
  });
});
