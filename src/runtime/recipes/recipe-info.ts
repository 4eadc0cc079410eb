import type { EngineName } from "../../core/memory/types.js";
import type { RecipeRecord } from "../../core/recipes/merge-recipes.js";
import type { RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import type { RejectionCode } from "../../core/recipes/select.js";
import {
  type RecipeConfig,
  type ShowConfigOptions,
  type ShowConfigResult,
  showConfig,
} from "./show-config.js";

export interface RecipeInfoRequest {
  model: string;
  gpuCount?: number;
  gpu?: string;
  recipesDir?: string;
  offline?: boolean;
}

/** One of the model's recipes and why it would or would not be chosen. */
export interface RecipeVerdict {
  id: string;
  status: "selected" | "candidate" | "rejected";
  /** Place among the qualifying recipes (1 = chosen); null when rejected. */
  rank: number | null;
  engine: EngineName;
  engineVersion: string;
  hardware: string[];
  gpuCount: number;
  precision: RecipePrecision;
  metric: RecipeMetric;
  origin: RecipeRecord["origin"];
  /** The ranking reasons of a candidate, or the one reason a recipe is rejected. */
  reasons: string[];
  code: RejectionCode | null;
  /** KV cache tokens of its plan on these GPUs (candidates only). */
  kvCacheTokens: number | null;
}

export interface RecipeInfoResult {
  model: string;
  hardware: ShowConfigResult["hardware"];
  summary: string;
  selected: string;
  recipes: RecipeVerdict[];
  warnings: string[];
}

/** `debug recipe-info`: every recipe for the model, the chosen one first, with the selection's reasons. */
export async function recipeInfo(
  request: RecipeInfoRequest,
  options: ShowConfigOptions = {},
): Promise<RecipeInfoResult> {
  const result = await showConfig(request, options);
  const best = result.candidates[0];
  const candidates = result.candidates.map(
    (c): RecipeVerdict => ({
      id: c.id,
      status: c.selected ? "selected" : "candidate",
      rank: c.rank,
      engine: c.engine,
      engineVersion: c.engineVersion,
      hardware: c.hardware,
      gpuCount: c.gpuCount,
      precision: c.precision,
      metric: c.metric,
      origin: c.origin,
      reasons: best && c !== best ? [...c.why, rankedAfter(c, best, result.filters.metric)] : c.why,
      code: null,
      kvCacheTokens: c.kvCache.tokens,
    }),
  );
  const rejected = result.rejected.map(
    (r): RecipeVerdict => ({
      id: r.id,
      status: "rejected",
      rank: null,
      engine: r.engine,
      engineVersion: r.engineVersion,
      hardware: r.hardware,
      gpuCount: r.gpuCount,
      precision: r.precision,
      metric: r.metric,
      origin: r.origin,
      reasons: [r.reason],
      code: r.code,
      kvCacheTokens: null,
    }),
  );
  return {
    model: result.model,
    hardware: result.hardware,
    summary: result.summary,
    selected: result.selected,
    recipes: [...candidates, ...rejected],
    warnings: result.warnings,
  };
}

/** Why a candidate ranks after the chosen one: the first ranking key (docs/recipes.md) that tells them apart. */
export function rankedAfter(
  candidate: RecipeConfig,
  best: RecipeConfig,
  metric: RecipeMetric | null,
): string {
  const prefix = `ranked ${candidate.rank} after ${best.id}`;
  if (best.hardwareMatch === "exact" && candidate.hardwareMatch !== "exact") {
    return `${prefix}, which is tuned for this exact GPU`;
  }
  if (metric !== null && best.metric === metric && candidate.metric !== metric) {
    return `${prefix}, which optimizes ${metric}`;
  }
  if (best.nativePrecision && !candidate.nativePrecision) {
    return `${prefix}, whose ${best.precision} runs natively`;
  }
  if (best.gpuCount < candidate.gpuCount) {
    return `${prefix}, which uses fewer GPUs (${best.gpuCount})`;
  }
  return `${prefix}: they tie, so the id decides`;
}
