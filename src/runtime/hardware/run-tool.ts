import { basename } from "node:path";
import { execa } from "execa";
import { firstLine } from "./smi-values.js";

/** How one invocation of a GPU tool ended. Never thrown: every ending is a value. */
export type ToolRun =
  | { kind: "ok"; stdout: string; stderr: string }
  | { kind: "exit"; exitCode: number; stdout: string; stderr: string; message: string }
  | { kind: "not-found"; message: string }
  | { kind: "timeout"; message: string }
  | { kind: "spawn-error"; message: string };

export interface RunToolOptions {
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
}

/** Output beyond this is not GPU tool output; the run fails rather than filling memory. */
const MAX_OUTPUT_BYTES = 16 * 1024 * 1024;

/** Variables the tools must not see: their answers have to be in physical device order. */
const VISIBILITY_VARIABLES = ["CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"];

function toolEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy: NodeJS.ProcessEnv = { ...env };
  for (const name of VISIBILITY_VARIABLES) delete copy[name];
  return copy;
}

/** "nvidia-smi --query-gpu=index,uuid,name,memory.to…": the tool's name and shortened arguments. */
function describeCommand(bin: string, args: readonly string[]): string {
  const shown = args.map((arg) => (arg.length > 40 ? `${arg.slice(0, 39)}…` : arg));
  return [basename(bin), ...shown].join(" ");
}

/**
 * Runs `bin args…` (argv array, no shell) with a time limit, stdin closed, and the caller's
 * environment minus the *_VISIBLE_DEVICES variables.
 */
export async function runTool(
  bin: string,
  args: readonly string[],
  options: RunToolOptions,
): Promise<ToolRun> {
  const command = describeCommand(bin, args);
  const result = await execa(bin, [...args], {
    reject: false,
    timeout: options.timeoutMs,
    forceKillAfterDelay: 1000,
    env: toolEnvironment(options.env),
    extendEnv: false,
    stdin: "ignore",
    maxBuffer: MAX_OUTPUT_BYTES,
    encoding: "utf8",
    stripFinalNewline: false,
  });
  if (result.timedOut) {
    return {
      kind: "timeout",
      message: `${command} did not finish within ${options.timeoutMs} ms and was stopped`,
    };
  }
  if (result.code === "ENOENT") {
    return { kind: "not-found", message: `${bin} was not found (not installed, or not on PATH)` };
  }
  if (result.isMaxBuffer) {
    return { kind: "spawn-error", message: `${command} printed more than ${MAX_OUTPUT_BYTES} bytes` };
  }
  const stdout = typeof result.stdout === "string" ? result.stdout : "";
  const stderr = typeof result.stderr === "string" ? result.stderr : "";
  if (result.exitCode === undefined) {
    if (result.signal !== undefined) {
      return { kind: "spawn-error", message: `${command} was stopped by ${result.signal}` };
    }
    const reason = result.code ?? result.shortMessage ?? "unknown error";
    return { kind: "spawn-error", message: `${command} could not be run: ${reason}` };
  }
  if (result.exitCode !== 0) {
    const said = firstLine(stderr) ?? firstLine(stdout) ?? "no output";
    return {
      kind: "exit",
      exitCode: result.exitCode,
      stdout,
      stderr,
      message: `${command} exited with code ${result.exitCode}: ${said}`,
    };
  }
  return { kind: "ok", stdout, stderr };
}
