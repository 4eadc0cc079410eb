/**
 * /api/recipes: the recipe library (studio, built-in and file recipes), CRUD of the studio's own,
 * form validation, import / export, and recipes made from a plan.
 */
import { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { RecipeEngineArgsSchema, RecipeSchema } from "../../core/recipes/recipe.js";
import { planModel } from "../catalog/planner.js";
import type { StudioApp, StudioContext } from "../context.js";
import { invalidFields } from "./field-errors.js";
import { FromPlanBodySchema, recipeDocumentFromPlan } from "./from-plan.js";
import { fileRecipes, type LibraryRecipe, listLibrary, recipePolicy, studioEntry } from "./library.js";
import { parseStudioRecipe, type StudioRecipe } from "./schema.js";
import {
  createStoredRecipes,
  deleteStoredRecipe,
  getStoredRecipeRecord,
  listStoredRecipes,
  updateStoredRecipe,
} from "./store.js";
import { exportDocuments, exportRecipes, readImport, validateImport } from "./transfer.js";

const shape = RecipeSchema.shape;

/**
 * The recipe document in the OpenAPI document. Field types are checked here; what needs the whole
 * recipe (required fields, GPU count vs parallelism, security policy, engine flags) by
 * parseStudioRecipe, so unknown keys pass through to be refused by name.
 */
export const RecipeDocumentSchema = z
  .looseObject({
    id: shape.id.optional().describe("recipe id: a lowercase slug such as qwen3-8b-h100-bf16"),
    model: shape.model.optional().describe("Hugging Face repo id, e.g. Qwen/Qwen3-8B"),
    engine: shape.engine.optional().describe("vllm, sglang or llamacpp"),
    engineVersion: shape.engineVersion.optional().describe("engine release (0.11.0, or b6981 for llama.cpp)"),
    hardware: z
      .array(z.string())
      .optional()
      .describe("GPU catalog ids the recipe is tuned for, reference first"),
    gpuCount: z.number().optional().describe("GPUs one instance uses"),
    precision: shape.precision.optional().describe("bf16, fp16, fp8, int8, int4 or mxfp4"),
    metric: shape.metric.optional().describe("latency or throughput"),
    engineArgs: z
      .looseObject(RecipeEngineArgsSchema.shape)
      .optional()
      .describe("planner settings (tensorParallelSize, maxModelLen …)"),
    env: z
      .record(z.string(), z.string())
      .optional()
      .describe("extra engine environment; never secrets; loader variables need allowCustomCommands"),
    notes: z.string().optional().describe("free text"),
    source: z.string().optional().describe("https link the configuration comes from"),
    extraArgs: z
      .array(z.string())
      .optional()
      .describe("raw engine flags, checked against the engine's flags"),
    autoRestart: z.boolean().optional().describe("the watchdog restarts the instance when it dies"),
    onDemand: z
      .boolean()
      .optional()
      .describe("the gateway starts it when a /v1 request names its model while it is stopped"),
    idleTtlSeconds: z
      .number()
      .int()
      .nullable()
      .optional()
      .describe("seconds without gateway requests after which the gateway stops it (min 1; null: never)"),
    engineProgram: z
      .string()
      .nullable()
      .optional()
      .describe("engine program or Python to run; only when the studio allows custom commands"),
  })
  .describe("a studio recipe document");

const IdParams = z.object({ id: z.string().min(1).max(200).describe("recipe id") });

const ListQuery = z.object({
  source: z.enum(["studio", "builtin", "file"]).optional().describe("only recipes from this source"),
  filter: z.string().max(200).optional().describe("substring of the id, model, engine or a GPU id"),
});

const FormatQuery = z.object({
  format: z
    .enum(["yaml", "json"])
    .optional()
    .describe("text format (import: default detected; export: yaml)"),
});

const ImportQuery = FormatQuery.extend({
  replace: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .describe("replace studio recipes with the same id (default: such an id is a conflict)"),
});

const ImportBody = z
  .union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())])
  .describe("YAML or JSON text (or a JSON body): one recipe document, a list, or {recipes: [...]}");

/**
 * Recipe bodies are validated by parseStudioRecipe alone (the schema documents them), so that one
 * answer names every invalid field, types and security policy alike, instead of stopping at the
 * first layer that fails.
 */
const documentedOnly = { validatorCompiler: () => (value: unknown) => ({ value }) };

async function parseOrThrow(ctx: StudioContext, body: unknown): Promise<StudioRecipe> {
  const parsed = parseStudioRecipe(body, await recipePolicy(ctx));
  if (!parsed.ok) throw invalidFields(parsed.errors);
  return parsed.recipe;
}

/** A built-in or file recipe with this id, which a studio recipe cannot take. */
async function readOnlyRecipe(ctx: StudioContext, id: string): Promise<LibraryRecipe | undefined> {
  return (await fileRecipes(ctx)).get(id);
}

function readOnlyConflict(entry: LibraryRecipe, action: string): ServepilotError {
  return new ServepilotError(
    "CONFLICT",
    `recipe ${entry.id} is a ${entry.source === "builtin" ? "built-in" : "file"} recipe (${entry.file}) and cannot be ${action}`,
    {
      hint:
        entry.source === "builtin"
          ? "copy it under another id with POST /api/recipes"
          : "edit the file in the recipe directory",
      details: { id: entry.id, source: entry.source, file: entry.file },
    },
  );
}

function matches(entry: LibraryRecipe, needle: string | undefined): boolean {
  if (!needle) return true;
  const r = entry.recipe;
  const text = needle.toLowerCase();
  const fields = [entry.id, r.model, r.engine, ...(Array.isArray(r.hardware) ? r.hardware : [])];
  return fields.some((f) => typeof f === "string" && f.toLowerCase().includes(text));
}

export function registerRecipeRoutes(app: StudioApp, ctx: StudioContext): void {
  app.addContentTypeParser(
    ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"],
    { parseAs: "string" },
    (_request, body, done) => done(null, body),
  );

  app.get(
    "/api/recipes",
    {
      schema: {
        summary: "Every recipe: the studio's, the built-ins and the recipe directory's, marked by source.",
        querystring: ListQuery,
      },
    },
    async (request) => {
      const { source, filter } = request.query;
      const recipes = (await listLibrary(ctx)).filter(
        (r) => (source === undefined || r.source === source) && matches(r, filter),
      );
      return { count: recipes.length, recipes };
    },
  );

  app.get(
    "/api/recipes/export",
    {
      schema: {
        summary: "The studio's recipes as a YAML or JSON file (POST /api/recipes/import reads it back).",
        querystring: FormatQuery,
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? "yaml";
      const stored = await listStoredRecipes(ctx.db);
      const text = exportRecipes(exportDocuments(stored.map((s) => s.studio)), format);
      reply.header(
        "content-type",
        format === "json" ? "application/json; charset=utf-8" : "application/yaml; charset=utf-8",
      );
      reply.header("content-disposition", `attachment; filename="servepilot-recipes.${format}"`);
      return text;
    },
  );

  app.get(
    "/api/recipes/:id",
    { schema: { summary: "One recipe, from any source.", params: IdParams } },
    async (request) => {
      const { id } = request.params;
      const stored = await getStoredRecipeRecord(ctx.db, id);
      if (stored) return studioEntry(stored.studio, stored.createdAt, stored.updatedAt);
      const file = await readOnlyRecipe(ctx, id);
      if (file) return file;
      throw new ServepilotError("NOT_FOUND", `no recipe ${id}`, {
        hint: "GET /api/recipes lists them",
        details: { id },
      });
    },
  );

  app.post(
    "/api/recipes",
    {
      schema: {
        summary: "Store a new studio recipe (409 when the id is taken).",
        body: RecipeDocumentSchema,
      },
      ...documentedOnly,
    },
    async (request, reply) => {
      const studio = await parseOrThrow(ctx, request.body);
      const readOnly = await readOnlyRecipe(ctx, studio.recipe.id);
      if (readOnly) throw readOnlyConflict(readOnly, "replaced by a studio recipe");
      await createStoredRecipes(ctx.db, [studio]);
      const stored = await getStoredRecipeRecord(ctx.db, studio.recipe.id);
      reply.status(201).header("location", `/api/recipes/${encodeURIComponent(studio.recipe.id)}`);
      return stored ? studioEntry(stored.studio, stored.createdAt, stored.updatedAt) : null;
    },
  );

  app.put(
    "/api/recipes/:id",
    {
      schema: {
        summary: "Replace a studio recipe (built-in and file recipes are read-only).",
        params: IdParams,
        body: RecipeDocumentSchema,
      },
      ...documentedOnly,
    },
    async (request) => {
      const { id } = request.params;
      const given: unknown = request.body;
      if (typeof given !== "object" || given === null || Array.isArray(given)) {
        throw invalidFields([{ field: "recipe", message: "expected a recipe object" }]);
      }
      const body = { id, ...(given as Record<string, unknown>) };
      if (body.id !== id) {
        throw invalidFields([{ field: "id", message: `must be ${JSON.stringify(id)} (the id in the path)` }]);
      }
      const readOnly = await readOnlyRecipe(ctx, id);
      if (readOnly && !(await getStoredRecipeRecord(ctx.db, id))) throw readOnlyConflict(readOnly, "changed");
      const studio = await parseOrThrow(ctx, body);
      await updateStoredRecipe(ctx.db, id, studio);
      const stored = await getStoredRecipeRecord(ctx.db, id);
      return stored ? studioEntry(stored.studio, stored.createdAt, stored.updatedAt) : null;
    },
  );

  app.delete(
    "/api/recipes/:id",
    {
      schema: { summary: "Delete a studio recipe (built-in and file recipes cannot be).", params: IdParams },
    },
    async (request) => {
      const { id } = request.params;
      if (await deleteStoredRecipe(ctx.db, id)) return { deleted: id };
      const readOnly = await readOnlyRecipe(ctx, id);
      if (readOnly) throw readOnlyConflict(readOnly, "deleted");
      throw new ServepilotError("NOT_FOUND", `no recipe ${id}`, { details: { id } });
    },
  );

  app.post(
    "/api/recipes/validate",
    {
      schema: {
        summary:
          "Check a recipe document without storing it: {valid, errors: [{field, message}]} (always 200).",
        body: z.record(z.string(), z.unknown()).describe("a recipe document, as POST /api/recipes takes it"),
      },
    },
    async (request) => {
      const parsed = parseStudioRecipe(request.body, await recipePolicy(ctx));
      return { valid: parsed.ok, errors: parsed.errors };
    },
  );

  app.post(
    "/api/recipes/import",
    {
      schema: {
        summary: "Import recipes from YAML or JSON: all are stored, or none when any entry is invalid.",
        querystring: ImportQuery,
        body: ImportBody,
      },
    },
    async (request, reply) => {
      const { format, replace } = request.query;
      const recipes = validateImport(readImport(request.body, format), await recipePolicy(ctx));
      const readOnly = await fileRecipes(ctx);
      const stored = new Set((await listStoredRecipes(ctx.db)).map((s) => s.studio.recipe.id));
      const conflicts = recipes
        .map((r, index) => ({ index, id: r.recipe.id }))
        .filter(({ id }) => readOnly.has(id) || (!replace && stored.has(id)));
      if (conflicts.length > 0) {
        throw new ServepilotError(
          "CONFLICT",
          `nothing imported: ${conflicts.map((c) => `entry ${c.index} (${c.id})`).join(", ")} ${conflicts.length === 1 ? "takes an id" : "take ids"} already in use`,
          {
            hint: "rename them, or pass ?replace=true to replace studio recipes (built-in and file recipes cannot be)",
            details: {
              fields: conflicts.map((c) => ({ field: `entries.${c.index}.id`, message: `${c.id} exists` })),
            },
          },
        );
      }
      await createStoredRecipes(ctx.db, recipes, { replace });
      reply.status(201);
      return { imported: recipes.map((r) => r.recipe.id), count: recipes.length };
    },
  );

  app.post(
    "/api/recipes/from-plan",
    {
      schema: {
        summary: "Plan a model on a GPU and store the planned configuration as a studio recipe.",
        body: FromPlanBodySchema,
      },
    },
    async (request, reply) => {
      const plan = await planModel(ctx, request.body);
      const document = recipeDocumentFromPlan(plan, request.body);
      const studio = await parseOrThrow(ctx, document);
      const readOnly = await readOnlyRecipe(ctx, studio.recipe.id);
      if (readOnly) throw readOnlyConflict(readOnly, "replaced by a studio recipe");
      await createStoredRecipes(ctx.db, [studio]);
      const stored = await getStoredRecipeRecord(ctx.db, studio.recipe.id);
      reply.status(201).header("location", `/api/recipes/${encodeURIComponent(studio.recipe.id)}`);
      return {
        recipe: stored ? studioEntry(stored.studio, stored.createdAt, stored.updatedAt) : null,
        plan: {
          fits: plan.fits,
          reasons: plan.reasons,
          config: plan.config,
          kvCache: plan.kvCache,
          warnings: plan.warnings,
        },
      };
    },
  );
}
