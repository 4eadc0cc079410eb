/**
 * Launches an engine and waits until it serves: the configuration chosen as `show-config` reports it
 * (a recipe, the planner's own, or the embedded engine for a GGUF file), free GPUs and a free port
 * taken under the instances lock, the engine started in its own process group (argv array, logs to a
 * file), startup followed through its log lines, readiness from /health and /v1/models. On failure
 * the cause and the planner's fix are recorded, and nothing is left running.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { type ErrorCode, ServepilotError } from "../../core/errors.js";
import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import type { EngineName } from "../../core/memory/types.js";
import type { Plan, UserEngineSettings } from "../../core/plan/types.js";
import type { Recipe, RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import { coldStartSeconds, deploymentName } from "../../core/render/build-deployment.js";
import type { DetectionReport } from "../detect-and-match.js";
import { ENGINE_ADAPTERS, launchArgv, resolveEngineProgram } from "../engines/adapters.js";
import type { StartupPhase } from "../engines/log-events.js";
import { initialStartupState, primaryFailure, type StartupState } from "../engines/startup-state.js";
import { createStartupTracker } from "../engines/startup-tracker.js";
import { type DiagnoseInput, diagnoseLaunchFailure } from "./diagnose.js";
import { type AllocatedGpu, allocateGpus, visibleDevicesEnv } from "./gpu-allocation.js";
import {
  INSTANCE_NAME,
  type InstanceEngine,
  type InstanceFailure,
  type InstanceRecord,
  isActiveStatus,
  type PlanComparison,
  type PlannedFiguresRecord,
} from "./instance.js";
import { createLogReader, openLogForEngine, rotateLog, tailLines } from "./log-file.js";
import { groupListensOn } from "./port-owner.js";
import { choosePort, isPortFree } from "./ports.js";
import { readProcessIdentity } from "./process-identity.js";
import { probeReadiness } from "./readiness.js";
import { instanceLogFile, withInstancesLock, writeInstance } from "./state-store.js";
import { instanceStatuses } from "./status.js";
import { terminateGroup } from "./stop.js";

export const DEFAULT_LAUNCH_HOST = "127.0.0.1";
export const DEFAULT_PORT_START = 8000;

export interface LaunchRequest {
  model: string;
  /** GPUs to use (default: what the chosen configuration needs). */
  gpuCount?: number;
  precision?: RecipePrecision;
  engine?: InstanceEngine;
  metric?: RecipeMetric;
  /** Launch this recipe (refused with its reason when it does not qualify here). */
  recipeId?: string;
  recipesDir?: string;
  name?: string;
  host?: string;
  /** A port to use as is (refused when taken); without it the first free port from portStart. */
  port?: number;
  portStart?: number;
  /** Seconds to wait for readiness (default scaled to the model's size). */
  timeoutSeconds?: number;
  docker?: boolean;
  dryRun?: boolean;
  engineBin?: string;
  /** Engine programs from the config file (engines.vllm …), used when neither flag nor env names one. */
  enginePrograms?: Partial<Record<"vllm" | "sglang" | "llamacpp", string>>;
  offline?: boolean;
  /** Settings imposed over the configuration (max model length, memory utilization, eager mode). */
  overrides?: Pick<UserEngineSettings, "maxModelLen" | "gpuMemoryUtilization" | "enforceEager">;
  trustRemoteCode?: boolean;
  /** Embedded engine: CPU threads (default: the core count). */
  threads?: number;
  /** Recipes considered beside the built-in and file ones (the studio's stored recipes), over them by id. */
  extraRecipes?: Recipe[];
  /**
   * Engine flags appended to the command (a stored recipe's extra arguments). Checked against the
   * engine's flag registry: an unknown flag is refused (INVALID_ARGUMENT) before anything starts.
   */
  extraArgs?: string[];
}

export interface LaunchProgress {
  name: string;
  phase: StartupPhase;
  percent: number | null;
  /** A log line the engine printed (every line, for a live view). */
  line?: string;
}

export interface LaunchOptions {
  dataDir: string;
  env?: NodeJS.ProcessEnv;
  onProgress?: (progress: LaunchProgress) => void;
  /** Cancels the launch: the engine is stopped and the launch fails with cause "cancelled". */
  signal?: AbortSignal;
  /** How often the log and /health are polled (ms). */
  pollMs?: number;
  /**
   * Called once, when the instance record is written and the engine spawned (before readiness): a
   * caller that only needs the launch under way (the studio) can go on from there.
   */
  onStarted?: (record: InstanceRecord) => void;
  /**
   * Stops waiting for readiness without stopping the engine: the launch resolves with the record as it
   * is (status "starting"), and the engine keeps running for a later adoption (the studio's shutdown).
   */
  detach?: AbortSignal;
}

/** What `launch --json` reports (AIM's launch fields plus servepilot's). */
export interface LaunchResult {
  name: string;
  engine: InstanceEngine;
  engineVersion: string | null;
  model: string;
  servedModelName: string;
  pid: number | null;
  containerId: string | null;
  gpus: Array<{ index: number; uuid: string | null; name: string }>;
  host: string;
  port: number;
  endpoint: string;
  /** The recipe's id, "generated" (the planner's configuration) or "embedded". */
  recipeId: string;
  precision: string | null;
  status: InstanceRecord["status"] | "dry-run";
  argv: string[];
  env: Record<string, string>;
  logFile: string;
  timeoutSeconds: number;
  planned: PlannedFiguresRecord | null;
  planVsActual: PlanComparison[];
  warnings: string[];
}

/** The configuration a launch runs, before GPUs and a port are taken. */
interface LaunchSpec {
  engine: InstanceEngine;
  engineVersion: string | null;
  model: string;
  recipeId: string;
  precision: string | null;
  /** Planner serve argv (program first); for embedded, [script, ...flags]. */
  serveArgv: string[];
  gpuCount: number;
  plan: Plan | null;
  replan: ((overrides: UserEngineSettings) => Plan | null) | null;
  recipeEnv: Record<string, string>;
  detection: DetectionReport | null;
  /** The catalog GPU the plan is for (null for the embedded engine). */
  gpuSpec: GpuSpec | null;
  /** Weights over all GPUs (GiB), for the default timeout. */
  totalWeightsGiB: number;
  warnings: string[];
}

function launchError(code: ErrorCode, message: string, hint?: string, details?: unknown): ServepilotError {
  return new ServepilotError(code, message, {
    ...(hint ? { hint } : {}),
    ...(details !== undefined ? { details } : {}),
  });
}

/** Default seconds to wait for readiness: the cold-start estimate (embedded: 2 minutes plus loading). */
export function defaultLaunchTimeoutSeconds(engine: InstanceEngine, totalWeightsGiB: number): number {
  if (engine === "embedded") return Math.ceil(120 + totalWeightsGiB * 10);
  return coldStartSeconds(totalWeightsGiB);
}

async function detect(options: LaunchOptions): Promise<DetectionReport> {
  const { detectAndMatch } = await import("../detect-and-match.js");
  return detectAndMatch({ dataDir: options.dataDir, ...(options.env ? { env: options.env } : {}) });
}

/** The .gguf file a model reference names: a file, a directory holding one, or a repo in the HF cache. */
async function resolveGgufFile(
  request: LaunchRequest,
  options: LaunchOptions,
): Promise<{ file: string; bytes: number }> {
  const ref = request.model;
  if (/\.gguf$/i.test(ref)) {
    const info = await stat(ref).catch(() => null);
    if (info?.isFile()) return { file: ref, bytes: info.size };
    throw launchError("MODEL_NOT_FOUND", `${ref}: no such GGUF file`);
  }
  const { loadModel } = await import("../load-model.js");
  const loaded = await loadModel(ref, {
    dataDir: options.dataDir,
    offline: true,
    ...(options.env ? { env: options.env } : {}),
  });
  const location = loaded.origin.location;
  if (loaded.origin.kind === "local" || loaded.origin.kind === "hf-cache") {
    if (/\.gguf$/i.test(location)) return { file: location, bytes: (await stat(location)).size };
    const { chooseGgufFile } = await import("../models/choose-gguf-file.js");
    const names = await readdir(location).catch(() => [] as string[]);
    const choice = chooseGgufFile(names);
    if (choice.kind === "chosen") {
      const file = join(location, choice.file);
      return { file, bytes: (await stat(file)).size };
    }
  }
  throw launchError(
    "INVALID_ARGUMENT",
    `the embedded engine serves GGUF files, and ${ref} has none on this machine`,
    `give the path of a .gguf file, or download one: servepilot cache download <repo> --include "*Q4_K_M.gguf"`,
  );
}

async function embeddedSpec(
  request: LaunchRequest,
  options: LaunchOptions,
  warnings: string[],
): Promise<LaunchSpec> {
  const embedded = await import("../engines/embedded/index.js");
  if (!(await embedded.isEmbeddedEngineInstalled())) {
    throw launchError(
      "LAUNCH_FAILED",
      "the embedded engine needs node-llama-cpp, which is not installed",
      "install it next to servepilot: npm install node-llama-cpp",
    );
  }
  const { file, bytes } = await resolveGgufFile(request, options);
  const argv = embedded.embeddedServerArgv({
    modelPath: file,
    host: DEFAULT_LAUNCH_HOST,
    port: 0,
    alias: "model",
    ...(request.overrides?.maxModelLen ? { ctxSize: request.overrides.maxModelLen } : {}),
    ...(request.threads ? { threads: request.threads } : {}),
  });
  return {
    engine: "embedded",
    engineVersion: null,
    model: file,
    recipeId: "embedded",
    precision: null,
    serveArgv: argv.slice(1),
    gpuCount: 0,
    plan: null,
    replan: null,
    recipeEnv: {},
    detection: null,
    gpuSpec: null,
    totalWeightsGiB: bytes / 2 ** 30,
    warnings,
  };
}

async function recipeSpec(
  request: LaunchRequest,
  options: LaunchOptions,
  detection: DetectionReport,
): Promise<LaunchSpec> {
  const { resolveConfigs } = await import("../recipes/show-config.js");
  const engine = request.engine as EngineName | undefined;
  const resolved = await resolveConfigs(
    {
      model: request.model,
      ...(request.gpuCount !== undefined ? { gpuCount: request.gpuCount } : {}),
      ...(request.precision ? { precision: request.precision } : {}),
      ...(engine ? { engine } : {}),
      ...(request.metric ? { metric: request.metric } : {}),
      ...(request.recipesDir ? { recipesDir: request.recipesDir } : {}),
      ...(request.offline ? { offline: true } : {}),
      ...(request.extraRecipes ? { extraRecipes: request.extraRecipes } : {}),
    },
    { dataDir: options.dataDir, detection, ...(options.env ? { env: options.env } : {}) },
  );
  const result = resolved.result;
  const visible = result.hardware.detectedCount;
  if (request.gpuCount !== undefined && visible !== null && request.gpuCount > visible) {
    throw launchError(
      "INVALID_ARGUMENT",
      `gpu_count ${request.gpuCount}: this machine has ${visible} GPU${visible === 1 ? "" : "s"} (${result.hardware.freeCount ?? 0} free)`,
      `ask for at most ${visible}, or leave gpu_count out to use what the configuration needs`,
    );
  }
  let id = result.selected;
  if (request.recipeId !== undefined) {
    const rejected = result.rejected.find((r) => r.id === request.recipeId);
    if (rejected) {
      throw launchError(
        "LAUNCH_FAILED",
        `recipe ${rejected.id} cannot run here: ${rejected.reason}`,
        `servepilot show-config ${request.model} lists the recipes that can`,
      );
    }
    if (!result.candidates.some((c) => c.id === request.recipeId)) {
      throw launchError(
        "INVALID_ARGUMENT",
        `--recipe ${request.recipeId}: no recipe with that id for ${result.model}`,
        `servepilot list recipes --filter ${result.model.split("/").pop()} lists them`,
      );
    }
    id = request.recipeId;
  }
  const overrides: UserEngineSettings = { ...request.overrides };
  const base = resolved.planOf(id);
  const plan = Object.keys(overrides).length > 0 ? resolved.replan(id, overrides) : base;
  if (plan === null) throw launchError("INTERNAL", `no plan for configuration ${id}`);
  if (!plan.fits) {
    const fixes = plan.recommendations.map((r) => `${r.setting} ${r.value}: ${r.why}`);
    throw launchError(
      "LAUNCH_FAILED",
      `${result.model} does not fit on ${result.hardware.count} x ${result.hardware.gpuName} as configured (${id}): ${plan.reasons.join("; ")}`,
      fixes[0] ?? `servepilot plan ${result.model} shows the memory breakdown`,
      { reasons: plan.reasons, recommendations: plan.recommendations },
    );
  }
  const candidate = result.candidates.find((c) => c.id === id);
  const serveArgv = [...plan.artifacts.serveArgv];
  if (request.trustRemoteCode) serveArgv.push("--trust-remote-code");
  return {
    engine: plan.config.engine,
    engineVersion: plan.config.engineVersion,
    model: result.model,
    recipeId: id,
    precision: candidate?.precision ?? result.generated?.precision ?? null,
    serveArgv,
    gpuCount: plan.config.tensorParallelSize * plan.config.pipelineParallelSize,
    plan,
    replan: (more) => resolved.replan(id, { ...overrides, ...more }),
    recipeEnv: candidate?.env ?? {},
    detection,
    gpuSpec: resolved.gpu,
    totalWeightsGiB:
      plan.memory.perGpu.weightsGiB * plan.config.tensorParallelSize * plan.config.pipelineParallelSize,
    warnings: [...result.warnings, ...(candidate?.warnings ?? result.generated?.warnings ?? [])],
  };
}

/** Chooses the configuration: the embedded engine for GGUF without GPUs, else recipes / the planner. */
async function prepare(request: LaunchRequest, options: LaunchOptions): Promise<LaunchSpec> {
  if (request.engine === "embedded") return embeddedSpec(request, options, []);
  let detection: DetectionReport;
  try {
    detection = await detect(options);
  } catch (error) {
    const noGpu = error instanceof ServepilotError && error.code === "GPU_DETECTION_FAILED";
    if (noGpu && request.engine === undefined && !request.docker && /\.gguf$/i.test(request.model)) {
      return embeddedSpec(request, options, [
        "no GPU detected: serving the GGUF file with the embedded engine on CPU",
      ]);
    }
    if (noGpu) {
      throw new ServepilotError("GPU_DETECTION_FAILED", (error as ServepilotError).message, {
        hint: "vLLM, SGLang and llama.cpp launches need a GPU here; without one, launch a .gguf file with --engine embedded (CPU)",
        details: (error as ServepilotError).details,
      });
    }
    throw error;
  }
  if (detection.gpus.length === 0 && request.engine === undefined && /\.gguf$/i.test(request.model)) {
    return embeddedSpec(request, options, [
      "no GPU visible: serving the GGUF file with the embedded engine on CPU",
    ]);
  }
  return recipeSpec(request, options, detection);
}

function plannedFigures(plan: Plan | null): PlannedFiguresRecord | null {
  if (plan === null) return null;
  return {
    weightsGiB: plan.memory.perGpu.weightsGiB,
    kvCacheGiB: plan.memory.perGpu.kvCacheGiB,
    kvCacheTokens: plan.kvCache.tokens,
    maxConcurrency: plan.kvCache.maxConcurrency,
    maxModelLen: plan.config.maxModelLen,
  };
}

/** The plan's figures beside the engine's own (the ones both sides have). */
export function comparePlanToActual(
  planned: PlannedFiguresRecord | null,
  actual: StartupState["actual"],
): PlanComparison[] {
  if (planned === null) return [];
  const pairs: Array<[string, number | null, number | null]> = [
    ["weightsGiB", planned.weightsGiB, actual.weightsGiB],
    ["kvCacheGiB", planned.kvCacheGiB, actual.availableKvGiB],
    ["kvCacheTokens", planned.kvCacheTokens, actual.kvCacheTokens],
    ["maxConcurrency", planned.maxConcurrency, actual.maxConcurrency],
  ];
  return pairs.flatMap(([metric, p, a]) =>
    p === null || a === null || a === 0
      ? []
      : [{ metric, planned: p, actual: a, errorPercent: Math.round(((a - p) / a) * 10_000) / 100 }],
  );
}

/** A free instance name: the one asked for (refused while it runs), else the model's, suffixed -2, -3 … */
function chooseName(wanted: string | undefined, model: string, active: ReadonlySet<string>): string {
  if (wanted !== undefined) {
    if (!INSTANCE_NAME.test(wanted)) {
      throw launchError(
        "INVALID_ARGUMENT",
        `--name "${wanted}": expected lowercase letters, digits, ".", "_" or "-" (at most 63, starting with a letter or digit)`,
      );
    }
    if (active.has(wanted)) {
      throw launchError(
        "LAUNCH_FAILED",
        `an instance named ${wanted} is already running`,
        `stop it first (servepilot stop ${wanted}) or choose another --name`,
      );
    }
    return wanted;
  }
  const base = deploymentName(model.replace(/\.gguf$/i, "")).slice(0, 56);
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!active.has(name)) return name;
  }
}

/** Checks the engine argv against the engine's flag registry (the embedded engine checks its own). */
async function checkFlags(spec: LaunchSpec, argv: readonly string[]): Promise<void> {
  if (spec.engine === "embedded") return;
  const { loadFlagRegistry } = await import("../catalog/flag-registry.js");
  const { checkArgv } = await import("../../core/engines/flag-registry.js");
  const registry = await loadFlagRegistry(spec.engine);
  const skip = spec.engine === "vllm" ? 3 : spec.engine === "sglang" ? 3 : 1;
  const programArgv = spec.engine === "sglang" ? ["python3", ...argv.slice(1)] : argv;
  const problems = checkArgv(registry, programArgv, {
    engine: spec.engine,
    skip,
    ...(spec.engineVersion ? { version: spec.engineVersion } : {}),
  }).filter((p) => p.code !== "version-not-covered");
  if (problems.length > 0) {
    throw launchError(
      "INVALID_ARGUMENT",
      `the ${ENGINE_ADAPTERS[spec.engine].label} command has flags the engine would refuse: ${problems.map((p) => p.message).join("; ")}`,
      undefined,
      { problems },
    );
  }
}

async function resolveDockerProgram(env: NodeJS.ProcessEnv): Promise<string> {
  const { findOnPath } = await import("../engines/adapters.js");
  const found = await findOnPath("docker", env);
  if (found === null) {
    throw launchError(
      "LAUNCH_FAILED",
      "--docker: docker is not on PATH",
      "install Docker (with the NVIDIA container toolkit or ROCm), or launch without --docker",
    );
  }
  return found;
}

/** The Hugging Face cache root on the host (HF_HOME/hub or HF_HUB_CACHE's parent; ~/.cache/huggingface). */
function hfCacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.HF_HOME) return env.HF_HOME;
  if (env.HF_HUB_CACHE) return dirname(env.HF_HUB_CACHE);
  return join(env.HOME ?? homedir(), ".cache", "huggingface");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

interface Started {
  record: InstanceRecord;
  child: ChildProcess | null;
  exit: Promise<{ code: number | null; signal: string | null }>;
}

async function spawnProcess(
  record: InstanceRecord,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; exit: Started["exit"]; pid: number }> {
  const log = await openLogForEngine(record.logFile);
  try {
    const [program, ...args] = record.argv as [string, ...string[]];
    const child = spawn(program, args, {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: { ...env, ...record.env },
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once("exit", (code, signal) => resolve({ code, signal }));
      child.once("error", () => resolve({ code: null, signal: null }));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid as number));
      child.once("error", (error) => reject(error));
    });
    child.unref();
    return { child, exit, pid };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw launchError(
      "LAUNCH_FAILED",
      `cannot start ${record.argv[0]}: ${code ?? (error as Error).message}`,
      "check the engine program (--engine-bin)",
    );
  } finally {
    await log.close();
  }
}

/**
 * Launches an engine; resolves once it is ready (or, with `dryRun`, once the command is known).
 * Throws LAUNCH_FAILED with the cause, the fixes and the log's last lines when it fails.
 */
export async function launch(request: LaunchRequest, options: LaunchOptions): Promise<LaunchResult> {
  const env = options.env ?? process.env;
  const spec = await prepare(request, options);
  const host = request.host ?? DEFAULT_LAUNCH_HOST;
  const timeoutSeconds =
    request.timeoutSeconds ?? defaultLaunchTimeoutSeconds(spec.engine, spec.totalWeightsGiB);
  if (request.docker && spec.engine === "embedded") {
    throw launchError(
      "INVALID_ARGUMENT",
      "--docker runs vLLM, SGLang or llama.cpp images; the embedded engine runs without docker",
    );
  }
  const docker = request.docker === true;
  if (request.extraArgs !== undefined && request.extraArgs.length > 0 && spec.engine === "embedded") {
    throw launchError(
      "INVALID_ARGUMENT",
      `extra engine arguments (${request.extraArgs.join(" ")}) apply to vLLM, SGLang and llama.cpp; the embedded engine takes none`,
    );
  }
  const program = docker
    ? await resolveDockerProgram(env)
    : await resolveEngineProgram(spec.engine, {
        engineBin: request.engineBin ?? null,
        configFile: spec.engine === "embedded" ? null : (request.enginePrograms?.[spec.engine] ?? null),
        env,
      });

  const started = await withInstancesLock(options.dataDir, async () => {
    const statuses = await instanceStatuses(options.dataDir, { env, probe: false });
    const active = statuses.filter((s) => isActiveStatus(s.record.status));
    const name = chooseName(request.name, spec.model, new Set(active.map((s) => s.record.name)));
    const gpus: AllocatedGpu[] =
      spec.gpuCount > 0 && spec.detection
        ? allocateGpus(
            spec.detection.gpus,
            spec.gpuCount,
            active.map((s) => ({ instance: s.record.name, gpuIndices: s.record.gpus.map((g) => g.index) })),
          )
        : [];
    const port = await choosePort({
      host,
      requested: request.port ?? null,
      start: request.portStart ?? DEFAULT_PORT_START,
      taken: new Set(active.map((s) => s.record.port)),
    });
    const servedModelName = spec.engine === "embedded" ? name : spec.model;
    const engineArgv = launchArgv({
      engine: spec.engine,
      program: docker ? ENGINE_ADAPTERS[spec.engine].defaultProgram : program,
      serveArgv: spec.serveArgv,
      host: docker ? "0.0.0.0" : host,
      port: port.port,
      servedModelName,
    }).concat(request.extraArgs ?? []);
    await checkFlags(spec, engineArgv);
    const argv =
      docker && spec.plan && spec.gpuSpec
        ? (await import("./docker.js")).dockerLaunchArgv({
            program,
            plan: {
              ...spec.plan,
              artifacts: {
                ...spec.plan.artifacts,
                serveArgv: spec.engine === "sglang" ? ["python3", ...engineArgv.slice(1)] : engineArgv,
              },
            },
            gpu: spec.gpuSpec,
            gpus,
            instance: name,
            host,
            port: port.port,
            hfCacheHostPath: hfCacheRoot(env),
            extraEnv: spec.recipeEnv,
          })
        : engineArgv;
    const record: InstanceRecord = {
      version: 1,
      name,
      model: spec.model,
      servedModelName,
      engine: spec.engine,
      engineVersion: spec.engineVersion,
      recipeId: spec.recipeId,
      precision: spec.precision,
      mode: docker ? "docker" : "process",
      pid: null,
      pgid: null,
      startTicks: null,
      processCommandLine: [],
      containerId: null,
      containerName: docker ? (await import("./docker.js")).containerNameFor(name) : null,
      logFollowerPid: null,
      argv,
      env: docker ? {} : { ...spec.recipeEnv, ...visibleDevicesEnv(gpus) },
      host,
      port: port.port,
      endpoint: `http://${host.includes(":") ? `[${host}]` : host}:${port.port}`,
      gpus: gpus.map((g) => ({ index: g.index, uuid: g.uuid, name: g.name })),
      logFile: instanceLogFile(options.dataDir, name),
      status: "starting",
      phase: "starting",
      createdAt: new Date().toISOString(),
      readyAt: null,
      stoppedAt: null,
      failure: null,
      planned: plannedFigures(spec.plan),
      actual: initialStartupState().actual,
      planVsActual: [],
    };
    if (request.dryRun) return { record, child: null, exit: Promise.resolve({ code: null, signal: null }) };
    await rotateLog(record.logFile, 1);
    if (docker) {
      const { startContainer } = await import("./docker.js");
      const container = await startContainer(record, env);
      const running: InstanceRecord = {
        ...record,
        containerId: container.containerId,
        logFollowerPid: container.follower.pid ?? null,
      };
      await writeInstance(options.dataDir, running);
      return { record: running, child: container.follower, exit: container.exit };
    }
    const { child, exit, pid } = await spawnProcess(record, env);
    const identity = await readProcessIdentity(pid);
    const running: InstanceRecord = { ...record, pid, pgid: pid, startTicks: identity?.startTicks ?? null };
    await writeInstance(options.dataDir, running);
    return { record: running, child, exit };
  });

  const base = {
    timeoutSeconds,
    warnings: spec.warnings,
  };
  if (request.dryRun) return toResult(started.record, "dry-run", base);
  options.onStarted?.(started.record);
  const ready = await waitUntilReady(started, spec, options, timeoutSeconds, env);
  return toResult(ready, ready.status, base);
}

function toResult(
  record: InstanceRecord,
  status: LaunchResult["status"],
  extra: { timeoutSeconds: number; warnings: string[] },
): LaunchResult {
  return {
    name: record.name,
    engine: record.engine,
    engineVersion: record.actual.engineVersion ?? record.engineVersion,
    model: record.model,
    servedModelName: record.servedModelName,
    pid: record.pid,
    containerId: record.containerId,
    gpus: record.gpus,
    host: record.host,
    port: record.port,
    endpoint: record.endpoint,
    recipeId: record.recipeId,
    precision: record.precision,
    status,
    argv: record.argv,
    env: record.env,
    logFile: record.logFile,
    timeoutSeconds: extra.timeoutSeconds,
    planned: record.planned,
    planVsActual: record.planVsActual,
    warnings: extra.warnings,
  };
}

/** Follows the log and polls readiness until ready, failed, cancelled or timed out. */
async function waitUntilReady(
  started: Started,
  spec: LaunchSpec,
  options: LaunchOptions,
  timeoutSeconds: number,
  env: NodeJS.ProcessEnv,
): Promise<InstanceRecord> {
  let record = started.record;
  const tracker = createStartupTracker(ENGINE_ADAPTERS[record.engine].logEngine);
  const reader = createLogReader(record.logFile);
  const pollMs = options.pollMs ?? 100;
  const deadline = Date.now() + timeoutSeconds * 1000;
  let exited: { code: number | null; signal: string | null } | null = null;
  void started.exit.then((e) => {
    exited = e;
  });
  let lastPhase: string = record.phase;
  let lastPercent: number | null = null;
  let failedAt: number | null = null;
  let nextProbe = 0;

  const drain = async () => {
    const text = await reader.read();
    if (text === "") return;
    // line by line, so that each phase the engine passes through is reported
    for (const piece of text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? []) {
      tracker.pushChunk(piece);
      const line = piece.replace(/[\r\n]+$/, "");
      const state = tracker.state;
      if (line !== "" && line !== piece)
        options.onProgress?.({ name: record.name, phase: state.phase, percent: state.phasePercent, line });
      if (state.phase !== lastPhase || state.phasePercent !== lastPercent) {
        lastPhase = state.phase;
        lastPercent = state.phasePercent;
        options.onProgress?.({ name: record.name, phase: state.phase, percent: state.phasePercent });
      }
    }
  };

  const fail = async (failure: InstanceFailure): Promise<never> => {
    if (record.pid !== null && exited === null)
      await terminateGroup(record.pgid ?? record.pid, record.pid, 10_000);
    if (record.containerId !== null) {
      await (await import("./docker.js")).removeContainer(record.containerId, env);
      if (record.logFollowerPid !== null)
        await terminateGroup(record.logFollowerPid, record.logFollowerPid, 2_000);
    }
    tracker.flush();
    record = {
      ...record,
      status: failure.cause === "cancelled" ? "stopped" : "failed",
      phase: tracker.state.phase,
      stoppedAt: new Date().toISOString(),
      failure,
      actual: tracker.state.actual,
    };
    await writeInstance(options.dataDir, record);
    const logTail = await tailLines(record.logFile, 30);
    throw new ServepilotError("LAUNCH_FAILED", `${record.name}: ${failure.message}`, {
      ...(failure.fixes[0] ? { hint: failure.fixes.join("\n") } : {}),
      details: { instance: record, cause: failure.cause, fixes: failure.fixes, logTail },
    });
  };

  let lastHealth: number | "refused" | "timeout" | null = null;
  const diagnose = async (
    input: Pick<DiagnoseInput, "exit" | "timedOutAfterSeconds">,
  ): Promise<InstanceFailure> => {
    let freePort: number | null = null;
    if (primaryFailure(tracker.state)?.cause === "address-in-use") {
      for (let port = record.port + 1; port < record.port + 100; port++) {
        if (await isPortFree(record.host, port)) {
          freePort = port;
          break;
        }
      }
    }
    return diagnoseLaunchFailure({
      ...input,
      failure: primaryFailure(tracker.state),
      phase: tracker.state.phase,
      lastHealth,
      engine: record.engine,
      model: record.model,
      name: record.name,
      port: record.port,
      plan: spec.plan,
      replan: spec.replan,
      freePort,
      hfTokenSet: Boolean(env.HF_TOKEN ?? env.HUGGING_FACE_HUB_TOKEN),
    });
  };

  for (;;) {
    await drain();
    if (options.detach?.aborted && !options.signal?.aborted) return record;
    if (options.signal?.aborted) {
      return fail({
        cause: "cancelled",
        message: "the launch was cancelled",
        fixes: [],
        exitCode: null,
        signal: null,
      });
    }
    if (exited !== null) {
      await sleep(pollMs);
      await drain();
      return fail(await diagnose({ exit: exited, timedOutAfterSeconds: null }));
    }
    if (tracker.state.status === "failed") {
      // the engine said why; give it a moment to exit on its own (and print the rest)
      failedAt ??= Date.now();
      if (Date.now() - failedAt > 3_000)
        return fail(await diagnose({ exit: null, timedOutAfterSeconds: null }));
    } else if (Date.now() >= nextProbe) {
      nextProbe = Date.now() + Math.max(pollMs * 2, 250);
      const probe = await probeReadiness(record.endpoint, record.servedModelName, { timeoutMs: 2_000 });
      lastHealth = probe.health;
      // only our engine's answer counts (docker publishes the port through its own proxy)
      if (probe.ready && (record.pgid === null || record.mode === "docker")) break;
      if (probe.ready && (await groupListensOn(record.pgid as number, record.port)) !== false) break;
    }
    if (Date.now() > deadline)
      return fail(await diagnose({ exit: null, timedOutAfterSeconds: timeoutSeconds }));
    await sleep(pollMs);
  }

  await drain();
  const identity = record.pid === null ? null : await readProcessIdentity(record.pid);
  const actual = tracker.state.actual;
  record = {
    ...record,
    status: "ready",
    phase: "ready",
    readyAt: new Date().toISOString(),
    processCommandLine: identity?.commandLine ?? [],
    actual,
    planVsActual: comparePlanToActual(record.planned, actual),
  };
  await writeInstance(options.dataDir, record);
  if (lastPhase !== "ready") options.onProgress?.({ name: record.name, phase: "ready", percent: null });
  return record;
}
