import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findOnPath, launchArgv, resolveEngineProgram } from "../../../src/runtime/engines/adapters.js";

function executable(dir: string, name: string): string {
  const path = join(dir, name);
  writeFileSync(path, "#!/bin/sh\nexit 0\n");
  chmodSync(path, 0o755);
  return path;
}

describe("engine programs", () => {
  it("are found: --engine-bin, then the SERVEPILOT_* variable, then the config file, then PATH", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sp-bin-"));
    const onPath = executable(dir, "vllm");
    const flagged = executable(dir, "vllm-flag");
    const fromEnv = executable(dir, "vllm-env");
    const fromFile = executable(dir, "vllm-file");
    const env = { PATH: dir, SERVEPILOT_VLLM_BIN: fromEnv };
    expect(await resolveEngineProgram("vllm", { engineBin: flagged, configFile: fromFile, env })).toBe(
      flagged,
    );
    expect(await resolveEngineProgram("vllm", { configFile: fromFile, env })).toBe(fromEnv);
    expect(await resolveEngineProgram("vllm", { configFile: fromFile, env: { PATH: dir } })).toBe(fromFile);
    expect(await resolveEngineProgram("vllm", { env: { PATH: dir } })).toBe(onPath);
    expect(await findOnPath("llama-server", { PATH: dir })).toBeNull();
  });

  it("a missing program is a launch error naming where it looked and how to install it", async () => {
    const error = await resolveEngineProgram("sglang", { env: { PATH: "/nonexistent" } }).catch((e) => e);
    expect(error.code).toBe("LAUNCH_FAILED");
    expect(error.message).toBe("cannot start SGLang: python3 is not on PATH");
    expect(error.hint).toMatch(/pip install sglang/);
    const configured = await resolveEngineProgram("llamacpp", {
      env: { PATH: "", SERVEPILOT_LLAMA_SERVER_BIN: "/no/llama-server" },
    }).catch((e) => e);
    expect(configured.message).toBe(
      "cannot start llama.cpp: /no/llama-server (from SERVEPILOT_LLAMA_SERVER_BIN) is not an executable file",
    );
  });
});

describe("launchArgv", () => {
  it("puts the resolved program first and replaces the plan's host, port and served name", () => {
    expect(
      launchArgv({
        engine: "vllm",
        program: "/opt/venv/bin/vllm",
        serveArgv: ["vllm", "serve", "Qwen/Qwen3-8B", "--port", "8000", "--max-model-len", "8192"],
        host: "127.0.0.1",
        port: 8011,
        servedModelName: "qwen",
      }),
    ).toEqual([
      "/opt/venv/bin/vllm",
      "serve",
      "Qwen/Qwen3-8B",
      "--max-model-len",
      "8192",
      "--host",
      "127.0.0.1",
      "--port",
      "8011",
      "--served-model-name",
      "qwen",
    ]);
    expect(
      launchArgv({
        engine: "sglang",
        program: "/usr/bin/python3.12",
        serveArgv: ["python3", "-m", "sglang.launch_server", "--model-path", "m/x", "--host=0.0.0.0"],
        host: "127.0.0.1",
        port: 30000,
        servedModelName: "m/x",
      }).slice(0, 7),
    ).toEqual([
      "/usr/bin/python3.12",
      "-m",
      "sglang.launch_server",
      "--model-path",
      "m/x",
      "--enable-metrics",
      "--host",
    ]);
    const llama = launchArgv({
      engine: "llamacpp",
      program: "/usr/local/bin/llama-server",
      serveArgv: ["llama-server", "-m", "/m/q.gguf", "-a", "old", "-c", "4096"],
      host: "127.0.0.1",
      port: 8080,
      servedModelName: "q",
    });
    expect(llama).toEqual([
      "/usr/local/bin/llama-server",
      "-m",
      "/m/q.gguf",
      "-c",
      "4096",
      "--metrics",
      "--host",
      "127.0.0.1",
      "--port",
      "8080",
      "--alias",
      "q",
    ]);
  });
});
