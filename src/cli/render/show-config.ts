import type { RecipeInfoResult } from "../../runtime/recipes/recipe-info.js";
import type { ShowConfigResult } from "../../runtime/recipes/show-config.js";
import type { Colors } from "../output.js";
import { renderTable } from "../table.js";

function describeHardware(hardware: ShowConfigResult["hardware"]): string {
  const where = hardware.detected
    ? `detected: ${hardware.detectedCount} visible, ${hardware.freeCount} free`
    : "named with --gpu";
  return `${hardware.count} x ${hardware.gpuName} (${hardware.gpuId}, ${hardware.memoryPerGpuGiB.toFixed(2)} GiB; ${where})`;
}

function tokens(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(0)}k` : String(value);
}

/** `show-config`: the qualifying recipes (the chosen one first), the rejected ones, or the generated config. */
export function renderShowConfig(result: ShowConfigResult, c: Colors): string {
  const out: string[] = [`${c.bold(result.model)} on ${describeHardware(result.hardware)}`];
  if (result.candidates.length > 0) {
    const rows = result.candidates.map((cfg) => [
      cfg.selected ? c.green(`* ${cfg.id}`) : `  ${cfg.id}`,
      `${cfg.engine} ${cfg.engineVersion}`,
      String(cfg.gpuCount),
      cfg.precision,
      cfg.metric,
      `TP${cfg.tensorParallelSize}${cfg.pipelineParallelSize > 1 ? ` PP${cfg.pipelineParallelSize}` : ""}`,
      tokens(cfg.maxModelLen),
      `${tokens(cfg.kvCache.tokens)} (${cfg.kvCache.kvCacheGiB.toFixed(1)} GiB)`,
      `${cfg.kvCache.maxConcurrency}x`,
      cfg.origin.kind === "user" ? c.cyan(cfg.origin.file) : "built-in",
    ]);
    out.push(
      "",
      renderTable(
        [
          "recipe",
          "engine",
          "gpus",
          "precision",
          "metric",
          "parallel",
          "context",
          "kv cache",
          "concur.",
          "from",
        ],
        rows,
      ).trimEnd(),
    );
    const best = result.candidates[0];
    if (best) {
      out.push("", `chosen: ${best.id} (${best.why.join("; ")})`);
      if (best.notes) out.push(c.dim(best.notes.trim()));
      const env = Object.entries(best.env).map(([k, v]) => `${k}=${v} `);
      out.push("", `  ${env.join("")}${best.serveCommand}`);
    }
  }
  const generated = result.generated;
  if (generated) {
    out.push("", c.yellow(result.summary));
    out.push(
      `generated: ${generated.engine} ${generated.engineVersion}, ${generated.gpuCount} GPU${generated.gpuCount === 1 ? "" : "s"}, ${generated.precision}, TP${generated.tensorParallelSize}, context ${tokens(generated.maxModelLen)}, KV cache ${tokens(generated.kvCache.tokens)} tokens, ${generated.fits ? c.green("fits") : c.red("does not fit")}`,
    );
    if (!generated.fits) for (const reason of generated.reasons) out.push(c.dim(`  ${reason}`));
    out.push("", `  ${generated.serveCommand}`);
    for (const warning of generated.warnings) out.push(c.yellow(`warning: ${warning}`));
  }
  if (result.rejected.length > 0) {
    out.push("", "not used:");
    for (const r of result.rejected) out.push(`  ${r.id}: ${c.dim(r.reason)}`);
  }
  for (const warning of result.warnings) out.push(c.yellow(`warning: ${warning}`));
  return `${out.join("\n")}\n`;
}

/** `debug recipe-info`: each of the model's recipes with its verdict and reasons. */
export function renderRecipeInfo(result: RecipeInfoResult, c: Colors): string {
  const out: string[] = [`${c.bold(result.model)} on ${describeHardware(result.hardware)}`];
  if (result.recipes.length === 0) out.push("no recipe exists for this model");
  for (const recipe of result.recipes) {
    const status =
      recipe.status === "selected"
        ? c.green("selected")
        : recipe.status === "candidate"
          ? `candidate #${recipe.rank}`
          : c.yellow(`rejected (${recipe.code})`);
    out.push(
      "",
      `${recipe.id}: ${status}`,
      c.dim(
        `  ${recipe.engine} ${recipe.engineVersion}, ${recipe.gpuCount} x ${recipe.hardware.join("/")}, ${recipe.precision}, ${recipe.metric}, ${recipe.origin.file}`,
      ),
      ...recipe.reasons.map((reason) => `  - ${reason}`),
    );
  }
  out.push("", result.summary);
  for (const warning of result.warnings) out.push(c.yellow(`warning: ${warning}`));
  return `${out.join("\n")}\n`;
}
