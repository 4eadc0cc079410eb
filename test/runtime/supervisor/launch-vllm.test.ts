/**
 * The launcher on the vLLM paths, with the vLLM emulator (test/fixtures/engines/vllm-emulator.mjs) as
 * the `vllm` program and captured nvidia-smi output as the GPUs: readiness, every failure cause with
 * its fix, GPU and port allocation, stop with no process left, pid-reuse protection.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServepilotError } from "../../../src/core/errors.js";
import { type LaunchRequest, launch } from "../../../src/runtime/supervisor/launch.js";
import {
  processGroupMembers,
  readProcessIdentity,
} from "../../../src/runtime/supervisor/process-identity.js";
import { readInstance, writeInstance } from "../../../src/runtime/supervisor/state-store.js";
import { instanceStatus, instanceStatuses } from "../../../src/runtime/supervisor/status.js";
import { stopInstance } from "../../../src/runtime/supervisor/stop.js";
import { fakeToolsEnv } from "../../helpers/fake-gpu-tools.js";
import { EMULATOR } from "../engines/emulator-process.js";

const started: Array<{ dataDir: string; env: NodeJS.ProcessEnv }> = [];

function setup(scenario = "ok", gpus = "h100-sxm-8x-nvlink.json", extra: NodeJS.ProcessEnv = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), "sp-launch-"));
  const env = fakeToolsEnv(gpus, {
    SERVEPILOT_VLLM_BIN: EMULATOR,
    EMULATOR_SCENARIO: scenario,
    EMULATOR_LINE_DELAY_MS: "0",
    ...extra,
  });
  started.push({ dataDir, env });
  return { dataDir, env };
}

const QWEN: LaunchRequest = { model: "Qwen/Qwen3-8B", offline: true, timeoutSeconds: 60 };

async function launchFailure(request: LaunchRequest, ctx: { dataDir: string; env: NodeJS.ProcessEnv }) {
  const error = await launch(request, { ...ctx, pollMs: 20 }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServepilotError);
  return error as ServepilotError & {
    details: { cause: string; fixes: string[]; logTail: string[]; instance: { pid: number } };
  };
}

afterEach(async () => {
  for (const { dataDir, env } of started.splice(0)) {
    for (const report of await instanceStatuses(dataDir, { env, probe: false })) {
      if (report.alive) await stopInstance(dataDir, report.record.name, { env, graceSeconds: 2 });
    }
  }
});

describe("launch with the vLLM emulator", () => {
  it("starts the selected recipe on a free GPU and port, waits for readiness and records plan vs actual", async () => {
    const ctx = setup();
    const phases: string[] = [];
    const result = await launch(QWEN, {
      ...ctx,
      pollMs: 20,
      onProgress: (p) => {
        if (p.line === undefined) phases.push(p.phase);
      },
    });
    expect(result.status).toBe("ready");
    expect(result.recipeId).toBe("qwen3-8b-h100-bf16-throughput");
    expect(result.gpus.map((g) => g.index)).toEqual([0]);
    expect(result.env.CUDA_VISIBLE_DEVICES).toBe(result.gpus[0]?.uuid);
    expect(result.argv[0]).toBe(EMULATOR);
    expect(result.argv.slice(1, 3)).toEqual(["serve", "Qwen/Qwen3-8B"]);
    expect(result.argv).toContain("--served-model-name");
    expect(phases.at(-1)).toBe("ready");
    expect(phases).toContain("loading-weights");

    const models = (await (await fetch(`${result.endpoint}/v1/models`)).json()) as {
      data: Array<{ id: string }>;
    };
    expect(models.data.map((m) => m.id)).toContain("Qwen/Qwen3-8B");

    // the emulator prints 14.99 GiB of weights, 50.28 GiB of KV cache, 411,856 tokens
    const weights = result.planVsActual.find((row) => row.metric === "weightsGiB");
    expect(weights?.actual).toBeCloseTo(14.99, 2);
    expect(Math.abs(weights?.errorPercent ?? 100)).toBeLessThan(5);
    expect(result.planVsActual.find((row) => row.metric === "kvCacheTokens")?.actual).toBe(411_856);

    // the API server and its EngineCore child share one process group
    const record = await readInstance(ctx.dataDir, result.name);
    expect(record?.status).toBe("ready");
    expect(record?.processCommandLine.length).toBeGreaterThan(0);
    const members = await processGroupMembers(result.pid as number);
    expect(members.length).toBe(2);

    const stop = await stopInstance(ctx.dataDir, result.name, { env: ctx.env });
    expect(stop).toMatchObject({ wasRunning: true, signal: "SIGTERM", remaining: [] });
    expect(await processGroupMembers(result.pid as number)).toEqual([]);
    expect((await readInstance(ctx.dataDir, result.name))?.status).toBe("stopped");
  });

  it("gives a second launch another GPU and port, and refuses when no GPU is free", async () => {
    const ctx = setup("ok", "h100-80gb-single.json");
    // the only GPU runs three processes (captured under load): nothing is free
    const busy = await launchFailure(QWEN, ctx);
    expect(busy.message).toMatch(/needs 1 free GPU, but 0 of the 1 visible are free; GPU 0 runs/);

    const eight = setup();
    const first = await launch(QWEN, { ...eight, pollMs: 20 });
    const second = await launch(QWEN, { ...eight, pollMs: 20 });
    expect(second.name).toBe(`${first.name}-2`);
    expect(second.gpus[0]?.index).not.toBe(first.gpus[0]?.index);
    expect(second.port).not.toBe(first.port);
  });

  it("refuses a --port that is in use before starting anything", async () => {
    const ctx = setup();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await launchFailure({ ...QWEN, port }, ctx);
      expect(error.code).toBe("LAUNCH_FAILED");
      expect(error.message).toContain(`port ${port} on 127.0.0.1 is already in use`);
      expect(await instanceStatuses(ctx.dataDir, { env: ctx.env })).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it.each([
    ["oom", "cuda-out-of-memory", /another process may hold GPU memory|--max-model-len/],
    ["no-kv-memory", "no-kv-cache-memory", /--max-model-len \d+ \(the planner's largest that fits/],
    ["max-model-len", "max-model-len-too-large", /--max-model-len 411856 \(the engine's own estimate/],
    ["port-in-use", "address-in-use", /launch again with --port \d+ \(free now\)/],
    [
      "unsupported-architecture",
      "unsupported-architecture",
      /does not know Qwen3NextForCausalLM: upgrade it/,
    ],
    ["trust-remote-code", "trust-remote-code-required", /launch again with --trust-remote-code/],
    [
      "gated-repo",
      "hf-access-denied",
      /accept the model's terms at https:\/\/huggingface.co\/Qwen\/Qwen3-8B.*\n.*set HF_TOKEN/,
    ],
  ])("scenario %s: fails with cause %s, a fix, and nothing left running", async (scenario, cause, fix) => {
    const ctx = setup(scenario);
    const error = await launchFailure(QWEN, ctx);
    expect(error.code).toBe("LAUNCH_FAILED");
    expect(error.details.cause).toBe(cause);
    expect(error.details.fixes.join("\n")).toMatch(fix);
    expect(error.details.logTail.length).toBeGreaterThan(0);
    const pid = error.details.instance.pid;
    expect(await processGroupMembers(pid)).toEqual([]);
    const report = await instanceStatus(ctx.dataDir, "qwen3-8b", { env: ctx.env });
    expect(report.record.status).toBe("failed");
    expect(report.record.failure?.cause).toBe(cause);
  });

  it("--trust-remote-code passes the flag to the engine, which then starts", async () => {
    const ctx = setup("trust-remote-code");
    const result = await launch({ ...QWEN, trustRemoteCode: true }, { ...ctx, pollMs: 20 });
    expect(result.status).toBe("ready");
    expect(result.argv).toContain("--trust-remote-code");
  });

  it("a crash while loading is reported with the engine's exit", async () => {
    const ctx = setup("crash-during-load");
    const error = await launchFailure(QWEN, ctx);
    expect(["model-load-failed", "engine-init-failed", "exited"]).toContain(error.details.cause);
    expect(error.details.logTail.join("\n")).toContain("SafetensorError");
  });

  it("times out a slow start, stops it, and suggests a longer --timeout", async () => {
    const ctx = setup("slow-start");
    const error = await launchFailure({ ...QWEN, timeoutSeconds: 1 }, ctx);
    expect(error.details.cause).toBe("timeout");
    expect(error.details.fixes[0]).toMatch(/--timeout 2\b/);
    expect(await processGroupMembers(error.details.instance.pid)).toEqual([]);
  });

  it("a launch cancelled through its signal stops the engine", async () => {
    const ctx = setup("slow-start");
    const controller = new AbortController();
    const pending = launch(QWEN, {
      ...ctx,
      pollMs: 20,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === "loading-weights") controller.abort();
      },
    });
    const error = await pending.then(
      () => null,
      (e: unknown) => e as ServepilotError & { details: { cause: string; instance: { pid: number } } },
    );
    expect(error?.details.cause).toBe("cancelled");
    expect(await processGroupMembers(error?.details.instance.pid as number)).toEqual([]);
    expect((await readInstance(ctx.dataDir, "qwen3-8b"))?.status).toBe("stopped");
  });

  it("escalates to SIGKILL when the engine ignores SIGTERM, and leaves no worker behind", async () => {
    const ctx = setup("ok", "h100-sxm-8x-nvlink.json", { EMULATOR_IGNORE_SIGTERM: "1" });
    const result = await launch(QWEN, { ...ctx, pollMs: 20 });
    const stop = await stopInstance(ctx.dataDir, result.name, { env: ctx.env, graceSeconds: 0.3 });
    expect(stop.signal).toBe("SIGKILL");
    expect(stop.remaining).toEqual([]);
    expect(await processGroupMembers(result.pid as number)).toEqual([]);
  });

  it("marks an engine that died after it was ready as failed, with the cause from its log", async () => {
    const ctx = setup();
    const result = await launch(QWEN, { ...ctx, pollMs: 20 });
    process.kill(-(result.pid as number), "SIGKILL");
    for (let i = 0; i < 100 && (await processGroupMembers(result.pid as number)).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const report = await instanceStatus(ctx.dataDir, result.name, { env: ctx.env });
    expect(report.alive).toBe(false);
    expect(report.record.status).toBe("failed");
    expect(report.record.failure?.cause).toBe("exited");
  });

  it("never treats a reused pid as the engine: status marks it gone and stop leaves that process alone", async () => {
    const ctx = setup();
    const result = await launch(QWEN, { ...ctx, pollMs: 20 });
    await stopInstance(ctx.dataDir, result.name, { env: ctx.env });
    // forge the record: "running", but its pid now belongs to this test process (started at another time)
    const record = await readInstance(ctx.dataDir, result.name);
    const me = await readProcessIdentity(process.pid);
    await writeInstance(ctx.dataDir, {
      ...(record as NonNullable<typeof record>),
      status: "ready",
      stoppedAt: null,
      pid: process.pid,
      pgid: process.pid,
    });
    expect(me?.startTicks).not.toBe(record?.startTicks);
    const report = await instanceStatus(ctx.dataDir, result.name, { env: ctx.env });
    expect(report.alive).toBe(false);
    expect(report.reason).toMatch(/belongs to another process/);
    const stop = await stopInstance(ctx.dataDir, result.name, { env: ctx.env });
    expect(stop.wasRunning).toBe(false);
  });

  it("a dry run reports the command, GPUs and port without starting anything", async () => {
    const ctx = setup();
    const result = await launch({ ...QWEN, dryRun: true }, { ...ctx, pollMs: 20 });
    expect(result.status).toBe("dry-run");
    expect(result.pid).toBeNull();
    expect(result.argv).toContain("--port");
    expect(await instanceStatuses(ctx.dataDir, { env: ctx.env })).toEqual([]);
  });

  it("--docker runs the release image on the allocated GPUs, published on the launch host only", async () => {
    const ctx = setup();
    const bin = mkdtempSync(join(tmpdir(), "sp-docker-"));
    writeFileSync(join(bin, "docker"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(bin, "docker"), 0o755);
    const env = { ...ctx.env, PATH: `${bin}:${ctx.env.PATH}` };
    const result = await launch({ ...QWEN, docker: true, dryRun: true }, { dataDir: ctx.dataDir, env });
    const argv = result.argv;
    expect(argv.slice(0, 6)).toEqual([
      join(bin, "docker"),
      "run",
      "--rm",
      "-d",
      "--name",
      "servepilot-qwen3-8b",
    ]);
    expect(argv[argv.indexOf("--gpus") + 1]).toBe("device=0");
    expect(argv[argv.indexOf("-p") + 1]).toBe(`127.0.0.1:${result.port}:${result.port}`);
    expect(argv.some((a) => /^vllm\/vllm-openai:v\d/.test(a))).toBe(true);
    // inside the container vLLM listens on every interface, under the name clients use
    expect(argv.slice(argv.indexOf("--host"), argv.indexOf("--host") + 2)).toEqual(["--host", "0.0.0.0"]);
    expect(argv).toContain("--served-model-name");
  });

  it("refuses a recipe that does not qualify here, with its reason", async () => {
    const ctx = setup("ok", "rtx4090-8x-pcie.json");
    const error = await launchFailure({ ...QWEN, recipeId: "qwen3-8b-h100-bf16-throughput" }, ctx);
    expect(error.message).toMatch(/recipe qwen3-8b-h100-bf16-throughput cannot run here: /);
  });
});
