/**
 * parseStudioRecipe over arbitrary env and extraArgs: it never throws, and answers either a recipe or
 * field errors naming `env.*` / `extraArgs.N` (or other recipe fields), one per field; code-loading
 * env names and reserved flags are never accepted without allowCustomCommands.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { FlagRegistry } from "../../src/core/engines/flag-registry.js";
import type { EngineName } from "../../src/core/memory/types.js";
import { flagRegistries } from "../../src/studio/recipes/library.js";
import { isCodeLoadingEnv, parseStudioRecipe } from "../../src/studio/recipes/schema.js";
import { validRecipe } from "./catalog-helpers.js";

let registries: Partial<Record<EngineName, FlagRegistry>>;
beforeAll(async () => {
  registries = await flagRegistries();
});

const envName = fc.oneof(
  fc.constantFrom("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH", "DYLD_INSERT_LIBRARIES", "PATH", "HF_TOKEN"),
  fc.constantFrom("VLLM_LOGGING_LEVEL", "NCCL_DEBUG", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"),
  fc.string({ maxLength: 20 }),
);
const flag = fc.oneof(
  fc.constantFrom(
    "--enable-prefix-caching",
    "--swap-space",
    "4",
    "--port",
    "--host=0.0.0.0",
    "-tp",
    "--max_model_len",
  ),
  fc.constantFrom("--served-model-name", "--no-such-flag", "--seed", "42", "--trust-remote-code", "-", "--"),
  fc.string({ maxLength: 30 }),
);
const input = fc.record({
  env: fc.oneof(fc.dictionary(envName, fc.string({ maxLength: 10 }), { maxKeys: 4 }), fc.anything()),
  extraArgs: fc.oneof(fc.array(flag, { maxLength: 6 }), fc.anything()),
  engine: fc.constantFrom("vllm", "sglang", "llamacpp", "tgi"),
  engineVersion: fc.constantFrom("0.11.0", "b6981", "0.5.0", "latest"),
  allowCustomCommands: fc.boolean(),
});

describe("parseStudioRecipe (property)", () => {
  it("never throws; returns a recipe or one error per field", () => {
    fc.assert(
      fc.property(input, ({ env, extraArgs, engine, engineVersion, allowCustomCommands }) => {
        const document = validRecipe({ env, extraArgs, engine, engineVersion });
        const result = parseStudioRecipe(document, { allowCustomCommands, flagRegistry: registries });
        if (result.ok) {
          expect(result.errors).toEqual([]);
          expect(result.recipe.extraArgs).toEqual(extraArgs ?? []);
          for (const name of Object.keys(result.recipe.recipe.env)) {
            if (!allowCustomCommands) expect(isCodeLoadingEnv(name)).toBe(false);
            expect(name).not.toMatch(/TOKEN|SECRET|PASSWORD/i);
          }
          for (const item of result.recipe.extraArgs)
            expect(item).not.toMatch(/^--(port|host|served-model-name)\b/);
          return;
        }
        expect(result.recipe).toBeNull();
        expect(result.errors.length).toBeGreaterThan(0);
        const fields = result.errors.map((e) => e.field);
        expect(new Set(fields).size).toBe(fields.length);
        for (const error of result.errors) {
          expect(typeof error.field).toBe("string");
          expect(error.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("never throws on any input at all", () => {
    fc.assert(
      fc.property(fc.anything(), fc.boolean(), (value, allowCustomCommands) => {
        const result = parseStudioRecipe(value, { allowCustomCommands, flagRegistry: registries });
        expect(result.ok ? result.recipe : result.errors.length).toBeTruthy();
      }),
      { numRuns: 300 },
    );
  });
});
