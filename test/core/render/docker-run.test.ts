import { describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { renderDockerRun, resolveContainerCommand } from "../../../src/core/render/docker-run.js";
import {
  amdMi300x,
  cachedSnapshot,
  customImage,
  HOSTILE_MODEL,
  HOSTILE_NOTE,
  hostileName,
  llamaCppLocalGguf,
  multiNode2x8,
  nvidiaOneGpu,
  nvidiaTp8,
  SINGLE_NODE_CASES,
  sglangTp2,
} from "./deployment-cases.js";
import { runShell } from "./run-shell.js";

/** The argv docker receives when a POSIX shell runs the rendered text. */
function dockerArgv(d: Deployment): string[] {
  const run = runShell(renderDockerRun(d), { programs: ["docker"] });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.calls).toHaveLength(1);
  const [program, ...argv] = run.calls[0] as string[];
  expect(program).toBe("docker");
  return argv;
}

function afterImage(argv: string[], image: string): string[] {
  const at = argv.indexOf(image);
  expect(at).toBeGreaterThan(0);
  return argv.slice(at + 1);
}

/** Whether `words` appear one after another somewhere in `list`. */
function containsRun(list: readonly string[], words: readonly string[]): boolean {
  return list.some((_, at) => words.every((word, i) => list[at + i] === word));
}

function expectInvalid(run: () => unknown, pattern: RegExp) {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_ARGUMENT");
    expect((error as ServepilotError).message).toMatch(pattern);
    return;
  }
  throw new Error("expected an INVALID_ARGUMENT error");
}

describe("renderDockerRun", () => {
  it("renders the NVIDIA single-GPU command the shell splits back into the exact argv", () => {
    expect(dockerArgv(nvidiaOneGpu)).toEqual([
      "run",
      "--rm",
      "-d",
      "--name",
      "qwen3-8b",
      "--gpus",
      '"device=0"',
      "--ipc=host",
      "-p",
      "8000:8000",
      "-v",
      "/data/hf-cache:/root/.cache/huggingface",
      "-e",
      "HF_TOKEN",
      "vllm/vllm-openai:v0.11.0",
      // the image's entrypoint is `vllm serve`: the model comes first
      "Qwen/Qwen3-8B",
      "--max-model-len",
      "8192",
      "--gpu-memory-utilization",
      "0.9",
      "--port",
      "8000",
    ]);
  });

  it("passes every GPU of a TP8 replica as one docker --gpus device list", () => {
    const argv = dockerArgv(nvidiaTp8);
    expect(argv[argv.indexOf("--gpus") + 1]).toBe('"device=0,1,2,3,4,5,6,7"');
    expect(afterImage(argv, nvidiaTp8.image)).toEqual(nvidiaTp8.serveArgv.slice(2));
  });

  it("gives AMD containers the ROCm devices, groups, seccomp, shared memory and environment", () => {
    const argv = dockerArgv(amdMi300x);
    const options = argv.slice(0, argv.indexOf(amdMi300x.image));
    expect(options).not.toContain("--gpus");
    for (const expected of [
      ["--device=/dev/kfd", "--device=/dev/dri"],
      ["--group-add", "video"],
      ["--security-opt", "seccomp=unconfined"],
      ["--ipc=host", "--shm-size", "16g"],
      ["-e", "VLLM_ROCM_USE_AITER=1"],
      ["-e", "HIP_VISIBLE_DEVICES=0,1,2,3,4,5,6,7"],
    ]) {
      expect(containsRun(options, expected), expected.join(" ")).toBe(true);
    }
    // rocm/vllm has no entrypoint: the whole argv follows the image, with the port made explicit
    expect(afterImage(argv, amdMi300x.image)).toEqual([...amdMi300x.serveArgv, "--port", "8000"]);
  });

  it("keeps a hostile model name, flag value and env value intact through the shell", () => {
    const argv = dockerArgv(hostileName);
    const args = afterImage(argv, hostileName.image);
    expect(args[0]).toBe(HOSTILE_MODEL);
    expect(args.slice(1, 3)).toEqual(["--served-model-name", "it's $HOME"]);
    expect(argv).toContain(`EXTRA_NOTE=${HOSTILE_NOTE}`);
  });

  it("runs SGLang's full launch command, listening on all interfaces at the deployment port", () => {
    const argv = dockerArgv(sglangTp2);
    expect(argv.slice(argv.indexOf("--gpus"), argv.indexOf("--gpus") + 2)).toEqual([
      "--gpus",
      '"device=2,3"',
    ]);
    expect(argv).toContain("30000:30000");
    expect(afterImage(argv, sglangTp2.image)).toEqual([
      ...sglangTp2.serveArgv,
      "--host",
      "0.0.0.0",
      "--port",
      "30000",
    ]);
  });

  it("mounts a local GGUF read-only for llama.cpp's server image, whose entrypoint is llama-server", () => {
    const argv = dockerArgv(llamaCppLocalGguf);
    expect(argv).toContain("/models/Qwen3-8B-Q4_K_M.gguf:/models/Qwen3-8B-Q4_K_M.gguf:ro");
    expect(afterImage(argv, llamaCppLocalGguf.image)).toEqual([
      ...llamaCppLocalGguf.serveArgv.slice(1),
      "--host",
      "0.0.0.0",
      "--port",
      "8080",
    ]);
  });

  it("points a model inside the HF cache at the cache's place in the container", () => {
    const args = afterImage(dockerArgv(cachedSnapshot), cachedSnapshot.image);
    expect(args[0]).toBe("/root/.cache/huggingface/hub/models--Qwen--Qwen3-8B/snapshots/abc123");
  });

  it("sets the entrypoint itself for an image it does not know", () => {
    const argv = dockerArgv(customImage);
    expect(argv.slice(argv.indexOf("--entrypoint"), argv.indexOf("--entrypoint") + 2)).toEqual([
      "--entrypoint",
      "vllm",
    ]);
    expect(afterImage(argv, customImage.image).slice(0, 2)).toEqual(["serve", "Qwen/Qwen3-8B"]);
  });

  it("lets the shell expand a ~/ cache path and nothing else", () => {
    const argv = dockerArgv({ ...nvidiaOneGpu, hfCacheHostPath: "~/.cache/hugging face" });
    expect(argv).toContain("/home/tester/.cache/hugging face:/root/.cache/huggingface");
  });

  it("passes HF_TOKEN by name only, for every case", () => {
    for (const [name, d] of Object.entries(SINGLE_NODE_CASES)) {
      const argv = dockerArgv(d);
      expect(
        argv.filter((arg) => arg.includes("HF_TOKEN=")),
        name,
      ).toEqual([]);
      expect(argv.slice(argv.indexOf("HF_TOKEN") - 1, argv.indexOf("HF_TOKEN") + 1), name).toEqual([
        "-e",
        "HF_TOKEN",
      ]);
    }
  });

  it("refuses a deployment spanning nodes, a port mismatch and an argv without a model", () => {
    expectInvalid(() => renderDockerRun(multiNode2x8), /spans 2 nodes/);
    expectInvalid(
      () => renderDockerRun({ ...nvidiaOneGpu, serveArgv: [...nvidiaOneGpu.serveArgv, "--port", "9000"] }),
      /--port 9000 but deployment.port is 8000/,
    );
    expectInvalid(
      () => resolveContainerCommand({ ...sglangTp2, serveArgv: ["python3", "-m", "x"] }),
      /names no model/,
    );
  });
});
