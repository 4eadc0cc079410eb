/**
 * Planner, catalogs, models on disk and download jobs under /api.
 */
import { zipSync } from "fflate";
import { z } from "zod";
import type { StudioApp, StudioContext } from "../context.js";
import { invalidFields } from "../recipes/field-errors.js";
import { deleteCachedModel, deleteLocalModel } from "./delete-models.js";
import type { DownloadJobs } from "./downloads.js";
import { cachedModels, checkLocalDirs, localModelDirs } from "./local-models.js";
import {
  catalogEngines,
  catalogGpus,
  catalogModels,
  fitModel,
  type GeneratedFile,
  generateFiles,
  inspectModel,
  planModel,
} from "./planner.js";
import {
  CatalogFilterSchema,
  FitBodySchema,
  GenerateBodySchema,
  GenerateQuerySchema,
  InspectQuerySchema,
  PlanBodySchema,
} from "./schemas.js";

/** A fixed time for zip entries, so the same files always give the same archive. */
const ZIP_MTIME = new Date("2025-01-01T00:00:00Z");

function zipFiles(files: readonly GeneratedFile[]): Uint8Array {
  const entries: Record<string, [Uint8Array, { mtime: Date; os: number; attrs: number }]> = {};
  for (const file of files) {
    // unix mode in the high 16 bits of the external attributes (os 3 = unix): scripts stay executable
    const mode = file.executable ? 0o100755 : 0o100644;
    entries[file.path] = [
      new TextEncoder().encode(file.content),
      { mtime: ZIP_MTIME, os: 3, attrs: mode << 16 },
    ];
  }
  return zipSync(entries, { level: 6 });
}

const LocalQuery = z.object({
  dirs: z
    .string()
    .max(8192)
    .optional()
    .describe("comma-separated absolute directories to look for models in (default: <dataDir>/models)"),
});

/** A cache repo id as the listing gives it: `org/name` (or a bare `name`), never `..` or a path. */
const CACHED_REPO = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/;
const DeleteCachedQuery = z.object({
  repo: z
    .string()
    .max(200)
    .regex(CACHED_REPO, "a cached repo id as GET /api/models/local lists it, such as Qwen/Qwen3-0.6B")
    .refine((repo) => !repo.includes(".."), "a repo id, without '..'")
    .describe("the repo id (hfCache.models[].repo in GET /api/models/local)"),
});
const DeleteLocalQuery = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .regex(/^[^/\\\0]+$/, "a directory name as GET /api/models/local lists it, without '/' or '\\'")
    .refine((name) => !name.startsWith("."), "a directory name not starting with '.'")
    .describe("the directory's name (local.models[].name in GET /api/models/local) under <dataDir>/models"),
});
const DeletedModelSchema = z.object({
  kind: z.enum(["hf-cache", "local"]),
  id: z.string().describe("the repo id (hf-cache) or the directory name (local)"),
  path: z.string().describe("the folder that was removed"),
  freedBytes: z.number().int().describe("bytes of the regular files removed"),
});

const DOWNLOAD_REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
const glob = z.string().min(1).max(500);
const DownloadBody = z
  .object({
    repo: z
      .string()
      .regex(DOWNLOAD_REPO, "a Hub repo id such as Qwen/Qwen3-0.6B")
      .describe("Hugging Face model repo id"),
    revision: z.string().min(1).max(200).optional().describe("branch, tag or commit (default main)"),
    include: z.array(glob).max(50).optional().describe("only files matching these globs, e.g. *Q4_K_M.gguf"),
    exclude: z.array(glob).max(50).optional().describe("skip files matching these globs"),
  })
  .strict();
const DownloadParams = z.object({ id: z.string().min(1).max(100).describe("download job id") });

export function registerCatalogRoutes(app: StudioApp, ctx: StudioContext, downloads: DownloadJobs): void {
  app.post(
    "/api/plan",
    {
      schema: {
        summary: "Plan a deployment (servepilot plan): the plan contract's data object.",
        body: PlanBodySchema,
      },
    },
    async (request) => planModel(ctx, request.body),
  );

  app.post(
    "/api/fit",
    {
      schema: {
        summary: "Every catalog GPU type and count that serves a model (servepilot fit).",
        body: FitBodySchema,
      },
    },
    async (request) => fitModel(ctx, request.body),
  );

  app.post(
    "/api/generate",
    {
      schema: {
        summary: "Plan, then render the deployment artifacts (servepilot generate) as JSON or a zip.",
        body: GenerateBodySchema,
        querystring: GenerateQuerySchema,
      },
    },
    async (request, reply) => {
      const { plan, files } = await generateFiles(ctx, request.body);
      const accept = request.headers.accept ?? "";
      const zip =
        request.query.format === "zip" ||
        (request.query.format === undefined && accept.includes("application/zip"));
      if (zip) {
        reply.header("content-type", "application/zip");
        reply.header("content-disposition", 'attachment; filename="servepilot-deployment.zip"');
        return Buffer.from(zipFiles(files));
      }
      return { fits: plan.fits, model: plan.model.id, files };
    },
  );

  app.get(
    "/api/catalog/models",
    { schema: { summary: "The model catalog (servepilot models).", querystring: CatalogFilterSchema } },
    async (request) => catalogModels(ctx, request.query.filter),
  );

  app.get(
    "/api/catalog/gpus",
    { schema: { summary: "The GPU catalog (servepilot gpus).", querystring: CatalogFilterSchema } },
    async (request) => catalogGpus(ctx, request.query.filter, request.query.vendor),
  );

  app.get(
    "/api/catalog/engines",
    {
      schema: {
        summary:
          "The engine releases the planner has memory data for (valid engineVersion values) and its default per engine.",
      },
    },
    async () => catalogEngines(ctx),
  );

  app.get(
    "/api/models/inspect",
    {
      schema: {
        summary:
          "A model's architecture, parameters, KV bytes per token and quantization (servepilot inspect).",
        querystring: InspectQuerySchema,
      },
    },
    async (request) => inspectModel(ctx, request.query),
  );

  app.get(
    "/api/models/local",
    {
      schema: {
        summary: "Models on the studio host: the Hugging Face cache and local model directories.",
        querystring: LocalQuery,
      },
    },
    async (request) => {
      const given = request.query.dirs
        ?.split(",")
        .map((d) => d.trim())
        .filter(Boolean);
      if (given) {
        const errors = await checkLocalDirs(given);
        if (errors.length > 0) throw invalidFields(errors, "");
      }
      const dirs = given ?? [`${ctx.dataDir}/models`];
      const [cache, local] = await Promise.all([cachedModels(ctx), localModelDirs(dirs)]);
      return {
        hfCache: { dir: cache.cacheDir, models: cache.models, warnings: cache.warnings },
        local: { dirs, models: local },
      };
    },
  );

  app.delete(
    "/api/models/local/hf-cache",
    {
      schema: {
        summary:
          "Delete a cached repo (its whole models--org--name folder) from the Hugging Face cache the listing scans.",
        description:
          "409 CONFLICT when an active instance serves it or a download writes it; 404 when the cache has no such repo.",
        querystring: DeleteCachedQuery,
        response: { 200: DeletedModelSchema },
      },
    },
    async (request) => deleteCachedModel(ctx, downloads, request.query.repo),
  );

  app.delete(
    "/api/models/local/dirs",
    {
      schema: {
        summary:
          "Delete a model directory directly under <dataDir>/models (as GET /api/models/local lists it).",
        description:
          "409 CONFLICT when an active instance serves it; 404 when there is no model directory of that name.",
        querystring: DeleteLocalQuery,
        response: { 200: DeletedModelSchema },
      },
    },
    async (request) => deleteLocalModel(ctx, request.query.name),
  );

  app.post(
    "/api/downloads",
    {
      schema: {
        summary: "Download a Hub model repo into the Hugging Face cache, as a job (202 with its id).",
        body: DownloadBody,
      },
    },
    async (request, reply) => {
      const job = await downloads.start(request.body);
      reply.status(202).header("location", `/api/downloads/${job.id}`);
      return job;
    },
  );

  app.get("/api/downloads", { schema: { summary: "Download jobs, newest first." } }, async () => {
    const jobs = await downloads.list();
    return { count: jobs.length, downloads: jobs };
  });

  app.get(
    "/api/downloads/:id",
    { schema: { summary: "One download job.", params: DownloadParams } },
    async (request) => downloads.get(request.params.id),
  );

  app.post(
    "/api/downloads/:id/cancel",
    {
      schema: {
        summary: "Cancel a queued or running download (its partial file is removed).",
        params: DownloadParams,
      },
    },
    async (request) => downloads.cancel(request.params.id),
  );
}
