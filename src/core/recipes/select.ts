import { isServepilotError } from "../errors.js";
import type { GpuSpec } from "../gpu/gpu-spec.js";
import type { EngineName } from "../memory/types.js";
import type { Plan } from "../plan/types.js";
import type { Recipe, RecipeMetric, RecipePrecision } from "./recipe.js";

/**
 * Recipe selection (seed: AIM Engine's AIMRecipeSelector): which saved configurations can launch
 * this model on these GPUs, best first, and why each other one cannot. Pure: the caller hands in
 * `planRecipe`, which plans a recipe on the detected GPU with the planner; a recipe qualifies only
 * when that plan fits. When nothing qualifies the caller falls back to a planner-generated config.
 */
export interface SelectRecipesInput {
  recipes: readonly Recipe[];
  /** Hugging Face repo id of the model to launch (compared case-insensitively). */
  model: string;
  /** The GPU to launch on (catalog entry, or the detected device matched to one). */
  gpu: GpuSpec;
  /** GPUs available (free) for this launch. */
  gpuCount: number;
  precision?: RecipePrecision | undefined;
  engine?: EngineName | undefined;
  metric?: RecipeMetric | undefined;
  /**
   * GPU catalog: with it, a recipe tuned for another GPU of the same vendor and architecture as
   * `gpu` (an H100 SXM recipe on an H100 PCIe) is a candidate too, ranked after exact matches.
   */
  catalog?: readonly GpuSpec[] | undefined;
  /** Plans a recipe on `gpu` with the recipe's GPU count, engine, version and settings. */
  planRecipe: (recipe: Recipe) => Plan;
}

export type HardwareMatch = "exact" | "same-architecture";

export interface RecipeCandidate {
  recipe: Recipe;
  plan: Plan;
  hardwareMatch: HardwareMatch;
  /** The GPU runs the recipe's precision in hardware (fp8 needs FP8 tensor cores, ...). */
  nativePrecision: boolean;
  /** Why it ranks where it does, in order of the ranking keys. */
  why: string[];
}

export type RejectionCode =
  | "other-model"
  | "engine-mismatch"
  | "precision-mismatch"
  | "gpu-not-listed"
  | "not-enough-gpus"
  | "does-not-fit"
  | "invalid-settings";

export interface RejectedRecipe {
  recipe: Recipe;
  code: RejectionCode;
  reason: string;
}

export interface RecipeSelection {
  /** Qualifying recipes, best first. */
  candidates: RecipeCandidate[];
  rejected: RejectedRecipe[];
  /** One line for the user: the chosen recipe, or that none qualifies (fall back to the planner). */
  summary: string;
}

/** Whether the GPU computes in this precision natively (weight-only int4 always dequantizes). */
export function runsNatively(gpu: GpuSpec, precision: RecipePrecision): boolean {
  switch (precision) {
    case "bf16":
      return gpu.tflops.bf16 !== null;
    case "fp16":
      return true;
    case "fp8":
      return gpu.fp8;
    case "int8":
      return gpu.tflops.int8 !== null;
    case "int4":
      return false;
    case "mxfp4":
      return gpu.tflops.fp4 !== null;
  }
}

export function selectRecipes(input: SelectRecipesInput): RecipeSelection {
  const { gpu } = input;
  const candidates: RecipeCandidate[] = [];
  const rejected: RejectedRecipe[] = [];
  const reject = (recipe: Recipe, code: RejectionCode, reason: string) =>
    rejected.push({ recipe, code, reason });
  const model = input.model.trim().toLowerCase();

  for (const recipe of input.recipes) {
    if (recipe.model.toLowerCase() !== model) {
      reject(recipe, "other-model", `for ${recipe.model}, not ${input.model}`);
      continue;
    }
    if (input.engine && recipe.engine !== input.engine) {
      reject(recipe, "engine-mismatch", `runs ${recipe.engine}, ${input.engine} was requested`);
      continue;
    }
    if (input.precision && recipe.precision !== input.precision) {
      reject(recipe, "precision-mismatch", `runs ${recipe.precision}, ${input.precision} was requested`);
      continue;
    }
    const hardwareMatch = matchHardware(recipe, gpu, input.catalog);
    if (!hardwareMatch) {
      reject(recipe, "gpu-not-listed", `tuned for ${recipe.hardware.join(", ")}, not ${gpu.id}`);
      continue;
    }
    if (recipe.gpuCount > input.gpuCount) {
      reject(
        recipe,
        "not-enough-gpus",
        `needs ${recipe.gpuCount} GPUs but ${input.gpuCount} ${input.gpuCount === 1 ? "is" : "are"} free`,
      );
      continue;
    }
    let plan: Plan;
    try {
      plan = input.planRecipe(recipe);
    } catch (error) {
      if (!isServepilotError(error)) throw error;
      reject(recipe, "invalid-settings", `its settings are refused: ${error.message}`);
      continue;
    }
    if (!plan.fits) {
      const why = plan.reasons.find((r) => r.startsWith("does not fit")) ?? plan.reasons[0] ?? "does not fit";
      reject(recipe, "does-not-fit", why.replace(/^does not fit: /, `does not fit on ${gpu.id}: `));
      continue;
    }
    const nativePrecision = runsNatively(gpu, recipe.precision);
    candidates.push({
      recipe,
      plan,
      hardwareMatch,
      nativePrecision,
      why: [
        hardwareMatch === "exact" ? `tuned for ${gpu.id}` : `tuned for another ${gpu.architecture} GPU`,
        ...(input.metric
          ? [
              recipe.metric === input.metric
                ? `optimizes ${recipe.metric}`
                : `optimizes ${recipe.metric}, not ${input.metric}`,
            ]
          : []),
        nativePrecision
          ? `${recipe.precision} runs natively on ${gpu.id}`
          : `${recipe.precision} is emulated on ${gpu.id}`,
        `uses ${recipe.gpuCount} of ${input.gpuCount} GPUs`,
      ],
    });
  }

  candidates.sort((a, b) => compareCandidates(a, b, input.metric));
  const best = candidates[0];
  const summary = best
    ? `recipe ${best.recipe.id} (${best.why.join("; ")})`
    : `no recipe qualifies for ${input.model} on ${input.gpuCount} x ${gpu.id}${describeFilters(input)}: use a planner-generated configuration`;
  return { candidates, rejected, summary };
}

function matchHardware(
  recipe: Recipe,
  gpu: GpuSpec,
  catalog: readonly GpuSpec[] | undefined,
): HardwareMatch | null {
  if (recipe.hardware.includes(gpu.id)) return "exact";
  const sibling = catalog?.some(
    (entry) =>
      recipe.hardware.includes(entry.id) &&
      entry.vendor === gpu.vendor &&
      entry.architecture === gpu.architecture,
  );
  return sibling ? "same-architecture" : null;
}

/** Exact hardware first, then the requested metric, then a native precision, then fewer GPUs, then id. */
function compareCandidates(a: RecipeCandidate, b: RecipeCandidate, metric: RecipeMetric | undefined): number {
  const keys: Array<(c: RecipeCandidate) => number> = [
    (c) => (c.hardwareMatch === "exact" ? 0 : 1),
    (c) => (metric === undefined || c.recipe.metric === metric ? 0 : 1),
    (c) => (c.nativePrecision ? 0 : 1),
    (c) => c.recipe.gpuCount,
  ];
  for (const key of keys) {
    const diff = key(a) - key(b);
    if (diff !== 0) return diff;
  }
  return a.recipe.id < b.recipe.id ? -1 : a.recipe.id > b.recipe.id ? 1 : 0;
}

function describeFilters(input: SelectRecipesInput): string {
  const filters = [input.engine, input.precision].filter((f) => f !== undefined);
  return filters.length > 0 ? ` (${filters.join(", ")})` : "";
}
