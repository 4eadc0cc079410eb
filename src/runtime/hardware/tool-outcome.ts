import type { ToolRun } from "./run-tool.js";
import type { SmiTool, ToolOutcome } from "./types.js";

/** Runs a GPU tool with the caller's time limit and environment already bound. */
export type ToolRunner = (bin: string, args: readonly string[]) => Promise<ToolRun>;

/** The outcome of a run that did not succeed (ok runs are judged by their parser). */
export function failedOutcome(tool: SmiTool, run: Exclude<ToolRun, { kind: "ok" }>): ToolOutcome {
  switch (run.kind) {
    case "not-found":
      return { tool, status: "not-found", message: run.message };
    case "timeout":
      return { tool, status: "timeout", message: run.message };
    default:
      return { tool, status: "failed", message: run.message };
  }
}

/** One line saying why an optional call gave nothing, for warnings. */
export function describeRunFailure(run: ToolRun): string {
  return run.kind === "ok" ? "it succeeded" : run.message;
}
