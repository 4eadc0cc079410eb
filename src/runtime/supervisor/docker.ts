/**
 * docker mode: the engine runs in its release's container (`docker run -d`, GPUs passed through,
 * the HF cache mounted, the port published on the launch host only), and a `docker logs -f` process
 * of ours copies its output into the instance's log file so that startup is followed the same way.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { ServepilotError } from "../../core/errors.js";
import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import type { Plan } from "../../core/plan/types.js";
import { buildDeployment } from "../../core/render/build-deployment.js";
import { dockerRunArgv } from "../../core/render/docker-run.js";
import type { AllocatedGpu } from "./gpu-allocation.js";
import type { InstanceRecord } from "./instance.js";
import { openLogForEngine } from "./log-file.js";

/** Container names are servepilot-<instance>, so `docker ps` shows whose they are. */
export function containerNameFor(instance: string): string {
  return `servepilot-${instance}`;
}

export function dockerLaunchArgv(input: {
  program: string;
  plan: Plan;
  gpu: GpuSpec;
  gpus: readonly AllocatedGpu[];
  instance: string;
  host: string;
  port: number;
  hfCacheHostPath: string;
  extraEnv: Record<string, string>;
}): string[] {
  const deployment = buildDeployment(input.plan, input.gpu, {
    port: input.port,
    hfCacheHostPath: input.hfCacheHostPath,
  });
  const indices = input.gpus.map((g) => String(g.index));
  const argv = dockerRunArgv(
    {
      ...deployment,
      name: containerNameFor(input.instance),
      deviceIds: indices,
      env: {
        ...input.extraEnv,
        ...(input.gpu.vendor === "amd" ? { HIP_VISIBLE_DEVICES: indices.join(",") } : {}),
      },
    },
    { publishHost: input.host },
  );
  // docker reads --gpus as CSV: the quotes are for a shell, an argv item takes the value bare
  return [input.program, ...argv.slice(1).map((arg) => arg.replace(/^"(device=[^"]*)"$/, "$1"))];
}

export async function startContainer(
  record: InstanceRecord,
  env: NodeJS.ProcessEnv,
): Promise<{
  containerId: string;
  follower: ChildProcess;
  exit: Promise<{ code: number | null; signal: string | null }>;
}> {
  const { execa } = await import("execa");
  const [program, ...args] = record.argv as [string, ...string[]];
  const run = await execa(program, args, { env, reject: false, timeout: 120_000 });
  if (run.exitCode !== 0) {
    throw new ServepilotError(
      "LAUNCH_FAILED",
      `docker run failed: ${run.stderr.trim() || run.stdout.trim()}`,
      {
        hint: "check that docker runs (docker info) and can reach the image",
      },
    );
  }
  const containerId = run.stdout.trim().split("\n").pop() ?? "";
  const log = await openLogForEngine(record.logFile);
  try {
    const follower = spawn(program, ["logs", "--follow", containerId], {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env,
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      follower.once("exit", (code, signal) => resolve({ code, signal }));
      follower.once("error", () => resolve({ code: null, signal: null }));
    });
    follower.unref();
    return { containerId, follower, exit };
  } finally {
    await log.close();
  }
}

/** Removes a container that failed to start (its log was copied already). */
export async function removeContainer(containerId: string, env: NodeJS.ProcessEnv): Promise<void> {
  const { execa } = await import("execa");
  await execa("docker", ["rm", "--force", containerId], { env, reject: false, timeout: 60_000 });
}
