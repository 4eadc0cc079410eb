/**
 * The planner as the studio serves it: the same runtime calls as `servepilot plan`, `fit`,
 * `generate`, `inspect`, `models` and `gpus` (never the CLI), with the studio's data directory and
 * environment. The Hub is only contacted when a request says `offline: false`.
 */
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { engineReleases } from "../../core/plan/engine-releases.js";
import type { Plan } from "../../core/plan/types.js";
import { loadEngineCatalog } from "../../runtime/catalog/engine-catalog.js";
import { loadGpuCatalog } from "../../runtime/catalog/gpu-catalog.js";
import { type FitResult, fit as fitAcrossGpus } from "../../runtime/fit.js";
import { generate } from "../../runtime/generate.js";
import { loadModel } from "../../runtime/load-model.js";
import { catalogModelsData, catalogModelViews, inspectData } from "../../runtime/model-views.js";
import { type PlanRequest, plan } from "../../runtime/plan.js";
import type { StudioContext } from "../context.js";
import type { PlanBody } from "./schemas.js";

/** PlanRequest without the keys left undefined (the runtime tells "absent" from "undefined"). */
export function planRequestOf(body: PlanBody): PlanRequest {
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (value !== undefined) request[key] = value;
  return request as unknown as PlanRequest;
}

function runtimeOptions(ctx: StudioContext) {
  return { dataDir: ctx.dataDir, env: ctx.env };
}

export function planModel(ctx: StudioContext, body: PlanBody): Promise<Plan> {
  return plan(planRequestOf(body), runtimeOptions(ctx));
}

export function fitModel(
  ctx: StudioContext,
  body: {
    model: string;
    maxModelLen?: number | undefined;
    concurrency?: number | undefined;
    maxGpus?: number | undefined;
    engineVersion?: string | undefined;
    vendor?: string | undefined;
    offline: boolean;
  },
): Promise<FitResult> {
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (value !== undefined) request[key] = value;
  return fitAcrossGpus(request as unknown as Parameters<typeof fitAcrossGpus>[0], runtimeOptions(ctx));
}

export interface GeneratedFile {
  path: string;
  kind: string;
  content: string;
  executable: boolean;
}

/**
 * Runs `generate` into a private temporary directory and reads the files back, so the studio renders
 * exactly what the CLI writes; nothing stays on disk.
 */
export async function generateFiles(
  ctx: StudioContext,
  body: PlanBody & { emit?: string[] | undefined; port?: number | undefined },
): Promise<{ plan: Plan; files: GeneratedFile[] }> {
  const { emit, port, ...planBody } = body;
  const work = await mkdtemp(join(tmpdir(), "servepilot-generate-"));
  try {
    const result = await generate(planRequestOf(planBody), {
      ...runtimeOptions(ctx),
      outputDir: join(work, "out"),
      ...(emit ? { emit: emit as NonNullable<Parameters<typeof generate>[1]["emit"]> } : {}),
      ...(port !== undefined ? { port } : {}),
    });
    const files = await Promise.all(
      result.files.map(async (file) => ({
        path: basename(file.path),
        kind: file.kind,
        content: await readFile(file.path, "utf8"),
        executable: ((await stat(file.path)).mode & 0o111) !== 0,
      })),
    );
    return { plan: result.plan, files };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `inspect`'s data object. */
export async function inspectModel(
  ctx: StudioContext,
  query: { model: string; revision?: string | undefined; offline: boolean },
) {
  const loaded = await loadModel(query.model, {
    ...runtimeOptions(ctx),
    ...(query.revision ? { revision: query.revision } : {}),
    ...(query.offline ? { offline: true } : {}),
  });
  return inspectData(loaded);
}

/** `models`' data object: the model catalog, filtered. */
export async function catalogModels(ctx: StudioContext, filter: string | undefined) {
  return catalogModelsData(await catalogModelViews({ dataDir: ctx.dataDir, filter }));
}

/** The engine releases the planner has data for, and the one it uses by default, per engine. */
export async function catalogEngines(ctx: StudioContext) {
  return { engines: engineReleases(await loadEngineCatalog({ dataDir: ctx.dataDir })) };
}

/** `gpus`' data object: the GPU catalog, filtered. */
export async function catalogGpus(
  ctx: StudioContext,
  filter: string | undefined,
  vendor: string | undefined,
) {
  if (vendor !== undefined && vendor !== "nvidia" && vendor !== "amd") {
    throw new ServepilotError("INVALID_ARGUMENT", `vendor must be "nvidia" or "amd", got ${vendor}`);
  }
  const catalog = await loadGpuCatalog({ dataDir: ctx.dataDir });
  const needle = filter?.toLowerCase();
  const gpus = catalog.filter(
    (gpu) =>
      (!vendor || gpu.vendor === vendor) &&
      (!needle ||
        gpu.id.includes(needle) ||
        gpu.name.toLowerCase().includes(needle) ||
        gpu.aliases.some((alias) => alias.toLowerCase().includes(needle))),
  );
  return { count: gpus.length, gpus };
}
