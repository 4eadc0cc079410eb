/**
 * Engine adapters: how each engine is found, started, probed and read. vLLM (`vllm serve`), SGLang
 * (`python3 -m sglang.launch_server`), llama.cpp (an external `llama-server`) and the embedded
 * engine (llama.cpp through node-llama-cpp, in a Node process of ours).
 */
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import type { InstanceEngine } from "../supervisor/instance.js";
import type { LogEngine } from "./startup-tracker.js";

export interface EngineAdapter {
  engine: InstanceEngine;
  label: string;
  /** The program looked up on PATH when none is configured. */
  defaultProgram: string;
  /** Environment variable naming the program (DESIGN.md "Surfaces"). */
  programEnv: string | null;
  /** Log parser used for startup progress and failure causes. */
  logEngine: LogEngine;
  healthPath: string;
  /** Prometheus metric name prefix on /metrics. */
  metricPrefix: string;
  /** How many leading argv items of the planner's serve argv are the program (replaced by the resolved one). */
  programItems: number;
  /** The flag that names the model to clients (/v1/models). */
  servedNameFlag: string;
  /**
   * Flags that turn on the Prometheus /metrics endpoint the studio scrapes: vLLM serves it always;
   * SGLang only with --enable-metrics (python/sglang/srt/server_args.py), llama-server only with
   * --metrics (tools/server/README.md).
   */
  metricsFlags: string[];
}

export const ENGINE_ADAPTERS: Readonly<Record<InstanceEngine, EngineAdapter>> = {
  vllm: {
    engine: "vllm",
    label: "vLLM",
    defaultProgram: "vllm",
    programEnv: "SERVEPILOT_VLLM_BIN",
    logEngine: "vllm",
    healthPath: "/health",
    metricPrefix: "vllm:",
    programItems: 1,
    servedNameFlag: "--served-model-name",
    metricsFlags: [],
  },
  sglang: {
    engine: "sglang",
    label: "SGLang",
    defaultProgram: "python3",
    programEnv: "SERVEPILOT_SGLANG_PYTHON",
    logEngine: "sglang",
    healthPath: "/health",
    metricPrefix: "sglang:",
    programItems: 1,
    servedNameFlag: "--served-model-name",
    metricsFlags: ["--enable-metrics"],
  },
  llamacpp: {
    engine: "llamacpp",
    label: "llama.cpp",
    defaultProgram: "llama-server",
    programEnv: "SERVEPILOT_LLAMA_SERVER_BIN",
    logEngine: "llamacpp",
    healthPath: "/health",
    metricPrefix: "llamacpp:",
    programItems: 1,
    servedNameFlag: "--alias",
    metricsFlags: ["--metrics"],
  },
  embedded: {
    engine: "embedded",
    label: "embedded llama.cpp (node-llama-cpp)",
    defaultProgram: process.execPath,
    programEnv: null,
    logEngine: "llamacpp",
    healthPath: "/health",
    metricPrefix: "llamacpp:",
    programItems: 0,
    servedNameFlag: "--alias",
    metricsFlags: [],
  },
};

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable `name` on PATH (or `name` itself when it is a path), else null. */
export async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | null> {
  if (name.includes("/")) {
    const path = isAbsolute(name) ? name : resolve(name);
    return (await isExecutableFile(path)) ? path : null;
  }
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * The engine's program: `--engine-bin`, else its SERVEPILOT_*_BIN variable, else the config file's
 * `engines.<engine>`, else the default on PATH. Refuses with the place it looked when there is none.
 */
export async function resolveEngineProgram(
  engine: InstanceEngine,
  options: { engineBin?: string | null; configFile?: string | null; env: NodeJS.ProcessEnv },
): Promise<string> {
  const adapter = ENGINE_ADAPTERS[engine];
  if (engine === "embedded") return process.execPath;
  const fromEnv = adapter.programEnv ? options.env[adapter.programEnv] : undefined;
  const [configured, origin] = options.engineBin
    ? [options.engineBin, "--engine-bin"]
    : fromEnv
      ? [fromEnv, adapter.programEnv]
      : options.configFile
        ? [options.configFile, `the config file's engines.${engine}`]
        : [null, null];
  const wanted = configured ?? adapter.defaultProgram;
  const found = await findOnPath(wanted, options.env);
  if (found !== null) return found;
  const where = configured
    ? `${configured} (from ${origin}) is not an executable file`
    : `${wanted} is not on PATH`;
  const install: Record<InstanceEngine, string> = {
    vllm: "install vLLM (pip install vllm) or point SERVEPILOT_VLLM_BIN / --engine-bin at its `vllm` program",
    sglang:
      "install SGLang (pip install sglang) or point SERVEPILOT_SGLANG_PYTHON / --engine-bin at the Python that has it",
    llamacpp:
      "install llama.cpp's llama-server or point SERVEPILOT_LLAMA_SERVER_BIN / --engine-bin at it; without GPUs, --engine embedded needs neither",
    embedded: "",
  };
  throw new ServepilotError("LAUNCH_FAILED", `cannot start ${adapter.label}: ${where}`, {
    hint: install[engine],
  });
}

/** Drops `flag` and its value from argv (`--flag value` or `--flag=value`). */
function withoutFlag(argv: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (flags.includes(arg)) {
      i++;
      continue;
    }
    if (flags.some((flag) => arg.startsWith(`${flag}=`))) continue;
    out.push(arg);
  }
  return out;
}

export interface LaunchArgvInput {
  engine: InstanceEngine;
  program: string;
  /** The planner's serve argv, program first (["vllm", "serve", MODEL, ...]); for embedded, its own argv after the program. */
  serveArgv: readonly string[];
  host: string;
  port: number;
  servedModelName: string;
}

/**
 * The argv that runs: the planner's serve argv with the resolved program, listening on host:port and
 * naming the model as clients will ask for it. Host, port and served name from the plan are replaced.
 */
export function launchArgv(input: LaunchArgvInput): string[] {
  const adapter = ENGINE_ADAPTERS[input.engine];
  const rest = withoutFlag(input.serveArgv.slice(adapter.programItems), [
    "--host",
    "--port",
    adapter.servedNameFlag,
    ...(adapter.servedNameFlag === "--alias" ? ["-a"] : []),
  ]);
  const metrics = adapter.metricsFlags.filter((flag) => !rest.includes(flag));
  return [
    input.program,
    ...rest,
    ...metrics,
    "--host",
    input.host,
    "--port",
    String(input.port),
    adapter.servedNameFlag,
    input.servedModelName,
  ];
}
