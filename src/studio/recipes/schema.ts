/**
 * A studio recipe: a core recipe (core/recipes/recipe.ts, validated by RecipeSchema) plus what the
 * studio adds to launch it: raw engine flags, whether the watchdog restarts it, and (only when the
 * studio runs with allowCustomCommands) an engine program of the user's choosing.
 *
 * On the wire and in the database a studio recipe is one flat document: the recipe's fields with
 * `extraArgs`, `autoRestart` and `engineProgram` beside them (what a form or a YAML file holds).
 *
 * The API is reachable over the network, so a recipe must not become a way to run arbitrary code:
 * an engine program, and environment variables that make the loader or an interpreter run other code
 * (LD_PRELOAD, PYTHONPATH, NODE_OPTIONS, PATH …), are refused unless allowCustomCommands; names that
 * look like secrets are always refused (RecipeSchema).
 */
import { z } from "zod";
import type { FlagRegistry } from "../../core/engines/flag-registry.js";
import { ServepilotError } from "../../core/errors.js";
import type { EngineName } from "../../core/memory/types.js";
import { RECIPE_ENGINES, type Recipe, RecipeSchema } from "../../core/recipes/recipe.js";
import { checkExtraArgs, MAX_EXTRA_ARG_LENGTH, MAX_EXTRA_ARGS } from "./extra-args.js";
import { type FieldError, issuesToFieldErrors, onePerField } from "./field-errors.js";

export interface StudioRecipe {
  recipe: Recipe;
  /** Raw engine flags appended to the planned command (checked against the engine's flag registry). */
  extraArgs: string[];
  /** The watchdog restarts the instance when it dies. */
  autoRestart: boolean;
  /** The program (or Python) to run instead of the configured one; only with allowCustomCommands. */
  engineProgram: string | null;
  /** The gateway starts it when a request names its model while it is stopped (default false). */
  onDemand?: boolean;
  /** Seconds without gateway requests after which the gateway stops it; null: never (default). */
  idleTtlSeconds?: number | null;
}

/** The flat document form of a StudioRecipe. */
export type StudioRecipeDocument = z.input<typeof RecipeSchema> & {
  extraArgs?: string[];
  autoRestart?: boolean;
  engineProgram?: string | null;
  onDemand?: boolean;
  idleTtlSeconds?: number | null;
};

export const STUDIO_FIELDS = [
  "extraArgs",
  "autoRestart",
  "engineProgram",
  "onDemand",
  "idleTtlSeconds",
] as const;

/** The shortest idle TTL (short ones unload a model between the turns of a conversation: a choice). */
export const MIN_IDLE_TTL_SECONDS = 1;

/**
 * Environment names that change which code runs: the dynamic loader's (glibc and macOS), Python's
 * module search and startup, Node's options, and the program search path.
 */
const LOADER_ENV = new Set([
  "LD_PRELOAD",
  "LD_LIBRARY_PATH",
  "LD_AUDIT",
  "PYTHONPATH",
  "PYTHONHOME",
  "PYTHONSTARTUP",
  "PYTHONUSERBASE",
  "NODE_OPTIONS",
  "PATH",
]);

export function isCodeLoadingEnv(name: string): boolean {
  return LOADER_ENV.has(name.toUpperCase()) || /^DYLD_/i.test(name);
}

/**
 * Refuses to launch a stored recipe that needs custom commands (its own engine program, or loader /
 * interpreter env) when the studio runs without --allow-custom-commands.
 */
export function assertRecipeRunnable(stored: StudioRecipe, allowCustomCommands: boolean): void {
  if (allowCustomCommands) return;
  const field = stored.engineProgram
    ? "engineProgram"
    : Object.keys(stored.recipe.env)
        .filter(isCodeLoadingEnv)
        .map((name) => `env.${name}`)[0];
  if (field === undefined) return;
  throw new ServepilotError(
    "INVALID_ARGUMENT",
    `recipe ${stored.recipe.id}: ${field} needs a studio started with --allow-custom-commands`,
    { hint: "restart the studio with --allow-custom-commands, or remove the field from the recipe" },
  );
}

const StudioFieldsSchema = z.object({
  extraArgs: z
    .array(z.string().min(1, "an empty flag").max(MAX_EXTRA_ARG_LENGTH))
    .max(MAX_EXTRA_ARGS)
    .default([]),
  autoRestart: z.boolean().default(false),
  engineProgram: z.string().min(1).max(4096).nullable().default(null),
  onDemand: z.boolean().default(false),
  idleTtlSeconds: z
    .number()
    .int()
    .min(MIN_IDLE_TTL_SECONDS, `at least ${MIN_IDLE_TTL_SECONDS} seconds (or null: never unload)`)
    .max(30 * 86_400)
    .nullable()
    .default(null),
});

export interface ParseStudioRecipeOptions {
  allowCustomCommands: boolean;
  /** Flag registries by engine (loadFlagRegistry); an engine without one gets only the reserved-flag check. */
  flagRegistry: Partial<Record<EngineName, FlagRegistry>> | null;
}

export type ParseStudioRecipeResult =
  | { ok: true; recipe: StudioRecipe; errors: [] }
  | { ok: false; recipe: null; errors: FieldError[] };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates a studio recipe document. Never throws: returns the recipe, or every field at fault
 * (one error per field) with what was expected.
 */
export function parseStudioRecipe(
  input: unknown,
  options: ParseStudioRecipeOptions,
): ParseStudioRecipeResult {
  if (!isPlainObject(input)) {
    return { ok: false, recipe: null, errors: [{ field: "recipe", message: "expected a recipe object" }] };
  }
  const { extraArgs, autoRestart, engineProgram, onDemand, idleTtlSeconds, ...core } = input;
  const errors: FieldError[] = [];
  const studio = StudioFieldsSchema.safeParse({
    extraArgs,
    autoRestart,
    engineProgram,
    onDemand,
    idleTtlSeconds,
  });
  if (!studio.success) errors.push(...issuesToFieldErrors(studio.error.issues));
  const parsed = RecipeSchema.safeParse(core);
  if (!parsed.success) errors.push(...issuesToFieldErrors(parsed.error.issues));

  if (!options.allowCustomCommands) {
    if (engineProgram !== undefined && engineProgram !== null) {
      errors.push({
        field: "engineProgram",
        message:
          "choosing the engine program is refused: start the studio with allowCustomCommands (--allow-custom-commands) to allow it",
      });
    }
    if (isPlainObject(core.env)) {
      for (const name of Object.keys(core.env)) {
        if (isCodeLoadingEnv(name)) {
          errors.push({
            field: `env.${name}`,
            message: `${name} changes which code the engine runs and is refused: start the studio with allowCustomCommands to allow it`,
          });
        }
      }
    }
  }

  const engine = (RECIPE_ENGINES as readonly unknown[]).includes(core.engine)
    ? (core.engine as EngineName)
    : null;
  if (studio.success && engine !== null) {
    const version = parsed.success ? parsed.data.engineVersion : undefined;
    errors.push(
      ...checkExtraArgs(studio.data.extraArgs, {
        engine,
        registry: options.flagRegistry?.[engine],
        version,
      }),
    );
  }

  if (errors.length > 0 || !parsed.success || !studio.success) {
    const list = onePerField(errors);
    return {
      ok: false,
      recipe: null,
      errors: list.length > 0 ? list : [{ field: "recipe", message: "invalid recipe" }],
    };
  }
  return { ok: true, recipe: { recipe: parsed.data, ...studio.data }, errors: [] };
}

/** The flat document of a studio recipe (what is stored, exported and shown). */
export function toDocument(studio: StudioRecipe): Record<string, unknown> {
  return {
    ...studio.recipe,
    extraArgs: studio.extraArgs,
    autoRestart: studio.autoRestart,
    ...(studio.engineProgram !== null ? { engineProgram: studio.engineProgram } : {}),
    ...(studio.onDemand ? { onDemand: true } : {}),
    ...(studio.idleTtlSeconds != null ? { idleTtlSeconds: studio.idleTtlSeconds } : {}),
  };
}
