import type { GpuSpec } from "../../core/gpu/gpu-spec.js";
import type { EngineName } from "../../core/memory/types.js";
import type { Plan, UserEngineSettings } from "../../core/plan/types.js";
import type { RecipeRecord } from "../../core/recipes/merge-recipes.js";
import type { Recipe, RecipeMetric, RecipePrecision } from "../../core/recipes/recipe.js";
import {
  type HardwareMatch,
  type RecipeSelection,
  type RejectionCode,
  selectRecipes,
} from "../../core/recipes/select.js";
import { loadEngineCatalog } from "../catalog/engine-catalog.js";
import { loadGpuCatalog } from "../catalog/gpu-catalog.js";
import type { DetectionReport } from "../detect-and-match.js";
import { loadModel } from "../load-model.js";
import { type GeneratedConfig, generateConfigWithPlan } from "./generate-config.js";
import { loadRecipes } from "./load-recipes.js";
import { type PlannedFigures, planFigures, planRecipeOn } from "./plan-recipe.js";
import { resolveRecipeHardware } from "./resolve-recipe-hardware.js";

/** What `show-config` asks (AIM Engine's show-config, plus servepilot's filters). Only `model` is required. */
export interface ShowConfigRequest {
  model: string;
  /** GPUs the launch may use (default: the free GPUs detected, or the largest recipe's count for a named GPU). */
  gpuCount?: number;
  /** GPU by catalog or device name (default: detect the GPUs here). */
  gpu?: string;
  precision?: RecipePrecision;
  engine?: EngineName;
  metric?: RecipeMetric;
  /** User recipe directory (default: `<dataDir>/recipes/`). */
  recipesDir?: string;
  offline?: boolean;
  /** Recipes beside the built-in and file ones (the studio's stored recipes), over them by id. */
  extraRecipes?: readonly Recipe[];
}

export interface ShowConfigOptions {
  dataDir?: string | null;
  env?: NodeJS.ProcessEnv;
  /** GPU detection already done by the caller (a launch detects once for selection and allocation). */
  detection?: DetectionReport;
}

/** show-config's result plus what a launch needs to start the chosen configuration. */
export interface ResolvedConfigs {
  result: ShowConfigResult;
  /** The plan of a candidate (by recipe id) or of the generated configuration ("generated"). */
  planOf(id: string): Plan | null;
  /** A candidate's plan again with some settings changed (how a launch failure's fix is computed). */
  replan(id: string, overrides: UserEngineSettings): Plan | null;
  gpu: GpuSpec;
}

interface RecipeSummary {
  id: string;
  origin: RecipeRecord["origin"];
  engine: EngineName;
  engineVersion: string;
  gpuCount: number;
  hardware: string[];
  precision: RecipePrecision;
  metric: RecipeMetric;
}

/** A recipe that qualifies, with its plan on the resolved GPUs. */
export interface RecipeConfig extends RecipeSummary, PlannedFigures {
  generated: false;
  rank: number;
  selected: boolean;
  hardwareMatch: HardwareMatch;
  nativePrecision: boolean;
  why: string[];
  env: Record<string, string>;
  notes: string | null;
  source: string;
}

export interface RejectedConfig extends RecipeSummary {
  code: RejectionCode;
  reason: string;
}

export interface ShowConfigResult {
  model: string;
  hardware: {
    gpuId: string;
    gpuName: string;
    memoryPerGpuGiB: number;
    count: number;
    detected: boolean;
    detectedCount: number | null;
    freeCount: number | null;
  };
  filters: {
    gpuCount: number | null;
    precision: RecipePrecision | null;
    engine: EngineName | null;
    metric: RecipeMetric | null;
  };
  /** The chosen recipe's id, "generated" for the planner's configuration. */
  selected: string;
  summary: string;
  /** Qualifying recipes, best first. */
  candidates: RecipeConfig[];
  /** This model's recipes that do not qualify, with why. */
  rejected: RejectedConfig[];
  /** The planner's configuration, when no recipe qualifies. */
  generated: GeneratedConfig | null;
  warnings: string[];
}

function summarize(record: RecipeRecord | undefined, recipe: Recipe): RecipeSummary {
  return {
    id: recipe.id,
    origin: record?.origin ?? { kind: "builtin", file: "?" },
    engine: recipe.engine,
    engineVersion: recipe.engineVersion,
    gpuCount: recipe.gpuCount,
    hardware: recipe.hardware,
    precision: recipe.precision,
    metric: recipe.metric,
  };
}

/**
 * The configurations that can serve a model on these GPUs: every qualifying recipe (best first, each
 * planned on the GPUs), the model's other recipes with the reason they do not qualify, and, when
 * none qualifies, the configuration the planner generates.
 */
export async function showConfig(
  request: ShowConfigRequest,
  options: ShowConfigOptions = {},
): Promise<ShowConfigResult> {
  return (await resolveConfigs(request, options)).result;
}

/** showConfig, keeping the plans (the launcher starts the selected one). */
export async function resolveConfigs(
  request: ShowConfigRequest,
  options: ShowConfigOptions = {},
): Promise<ResolvedConfigs> {
  const dataDir = options.dataDir ?? null;
  const [library, gpuCatalog, engines, loaded] = await Promise.all([
    loadRecipes({
      dataDir,
      recipesDir: request.recipesDir ?? null,
      ...(request.extraRecipes ? { extraRecipes: request.extraRecipes } : {}),
    }),
    loadGpuCatalog({ dataDir }),
    loadEngineCatalog({ dataDir }),
    loadModel(request.model, {
      dataDir,
      ...(options.env ? { env: options.env } : {}),
      ...(request.offline ? { offline: true } : {}),
    }),
  ]);
  const modelId = loaded.catalogEntry?.id ?? loaded.id;
  const forModel = library.records.filter((r) => r.recipe.model.toLowerCase() === modelId.toLowerCase());
  const hardware = await resolveRecipeHardware({
    gpu: request.gpu,
    gpuCount: request.gpuCount,
    namedDefaultCount: Math.max(1, ...forModel.map((r) => r.recipe.gpuCount)),
    catalog: gpuCatalog,
    detect: async () => {
      if (options.detection) return options.detection;
      const { detectAndMatch } = await import("../detect-and-match.js");
      return detectAndMatch({ dataDir, ...(options.env ? { env: options.env } : {}) });
    },
  });
  const context = {
    modelId,
    model: loaded.description,
    gpu: hardware.gpu,
    engines,
    freeBytes: hardware.freeBytes,
    ggufTensors: loaded.ggufTensors,
  };
  const selection: RecipeSelection = selectRecipes({
    recipes: forModel.map((r) => r.recipe),
    model: modelId,
    gpu: hardware.gpu,
    gpuCount: hardware.count,
    precision: request.precision,
    engine: request.engine,
    metric: request.metric,
    catalog: gpuCatalog,
    planRecipe: (recipe) => planRecipeOn(recipe, context),
  });
  const recordOf = (recipe: Recipe) => forModel.find((r) => r.recipe.id === recipe.id);
  const candidates = selection.candidates.map(
    (candidate, index): RecipeConfig => ({
      generated: false,
      rank: index + 1,
      selected: index === 0,
      ...summarize(recordOf(candidate.recipe), candidate.recipe),
      hardwareMatch: candidate.hardwareMatch,
      nativePrecision: candidate.nativePrecision,
      why: candidate.why,
      env: candidate.recipe.env,
      notes: candidate.recipe.notes ?? null,
      source: candidate.recipe.source,
      ...planFigures(candidate.plan),
    }),
  );
  const rejected = selection.rejected.map(
    (r): RejectedConfig => ({ ...summarize(recordOf(r.recipe), r.recipe), code: r.code, reason: r.reason }),
  );
  const generatedWithPlan =
    candidates.length === 0
      ? generateConfigWithPlan({
          ...context,
          gpuCount: hardware.count,
          engine: request.engine,
          precision: request.precision,
          metric: request.metric,
        })
      : null;
  const generated = generatedWithPlan?.config ?? null;
  const plans = new Map<string, Plan>(selection.candidates.map((c) => [c.recipe.id, c.plan]));
  if (generatedWithPlan) plans.set("generated", generatedWithPlan.plan);
  const result: ShowConfigResult = {
    model: modelId,
    hardware: {
      gpuId: hardware.gpu.id,
      gpuName: hardware.gpu.name,
      memoryPerGpuGiB: hardware.gpu.memory.runtimeGiB,
      count: hardware.count,
      detected: hardware.detected,
      detectedCount: hardware.detectedCount,
      freeCount: hardware.freeCount,
    },
    filters: {
      gpuCount: request.gpuCount ?? null,
      precision: request.precision ?? null,
      engine: request.engine ?? null,
      metric: request.metric ?? null,
    },
    selected: candidates[0]?.id ?? "generated",
    summary: selection.summary,
    candidates,
    rejected,
    generated,
    warnings: hardware.warnings,
  };
  const replan = (id: string, overrides: UserEngineSettings): Plan | null => {
    const candidate = selection.candidates.find((c) => c.recipe.id === id);
    if (candidate) {
      const engineArgs = { ...candidate.recipe.engineArgs, ...overrides } as Recipe["engineArgs"];
      return planRecipeOn({ ...candidate.recipe, engineArgs }, context);
    }
    const base = plans.get(id);
    if (id !== "generated" || !base) return null;
    return generateConfigWithPlan({
      ...context,
      gpuCount: hardware.count,
      engine: request.engine,
      precision: request.precision,
      metric: request.metric,
      overrides,
    }).plan;
  };
  return { result, planOf: (id) => plans.get(id) ?? null, replan, gpu: hardware.gpu };
}
