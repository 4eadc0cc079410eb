import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ServepilotError } from "../../../src/core/errors.js";
import { mergeRecipes, type RecipeRecord } from "../../../src/core/recipes/merge-recipes.js";
import { parseRecipesFile } from "../../../src/core/recipes/parse-recipes-file.js";

const GOOD = `# two recipes
- id: qwen3-8b-h100
  model: Qwen/Qwen3-8B
  engine: vllm
  engineVersion: 0.11.0
  hardware: [h100-sxm]
  gpuCount: 1
  precision: bf16
  metric: throughput
  engineArgs:
    maxModelLen: 32768
  source: https://docs.vllm.ai/projects/recipes/en/latest/Qwen/Qwen3.html
- id: qwen3-8b-4090
  model: Qwen/Qwen3-8B
  engine: sglang
  engineVersion: 0.5.3
  hardware: [rtx-4090]
  gpuCount: 1
  precision: bf16
  metric: latency
  source: https://qwen.readthedocs.io/en/latest/deployment/sglang.html
`;

function parseError(file: string, text: string): ServepilotError {
  try {
    parseRecipesFile(file, text);
  } catch (error) {
    expect(error).toBeInstanceOf(ServepilotError);
    expect((error as ServepilotError).code).toBe("INVALID_DATA_FILE");
    return error as ServepilotError;
  }
  throw new Error("expected parseRecipesFile to refuse the file");
}

describe("parseRecipesFile", () => {
  it("reads a list of recipes and fills defaults", () => {
    const recipes = parseRecipesFile("good.yaml", GOOD);
    expect(recipes.map((r) => r.id)).toEqual(["qwen3-8b-h100", "qwen3-8b-4090"]);
    expect(recipes[0]?.engineArgs).toEqual({ maxModelLen: 32768 });
    expect(recipes[1]?.engineArgs).toEqual({});
    expect(recipes[1]?.env).toEqual({});
  });

  it("reads a file holding one recipe, and an empty file as none", () => {
    const single = GOOD.split("- id: qwen3-8b-4090")[0]?.replace(/^- /m, "").replace(/^ {2}/gm, "") ?? "";
    expect(parseRecipesFile("one.yaml", single).map((r) => r.id)).toEqual(["qwen3-8b-h100"]);
    expect(parseRecipesFile("empty.yaml", "# nothing yet\n")).toEqual([]);
  });

  it("names the file, line and field of a value of the wrong type", () => {
    const text = GOOD.replace("maxModelLen: 32768", 'maxModelLen: "32k"');
    const error = parseError("recipes/qwen.yaml", text);
    expect(error.message).toMatch(
      /^recipes\/qwen\.yaml:11:18: entry 1 \(id "qwen3-8b-h100"\), field engineArgs\.maxModelLen: /,
    );
    expect(error.details).toMatchObject({
      file: "recipes/qwen.yaml",
      line: 11,
      field: "engineArgs.maxModelLen",
    });
  });

  it("points at an unknown key itself", () => {
    const text = GOOD.replace("  metric: latency\n", "  metric: latency\n  tensorParallel: 2\n");
    expect(parseError("r.yaml", text).message).toMatch(
      /^r\.yaml:21:3: entry 2 \(id "qwen3-8b-4090"\).*tensorParallel/,
    );
  });

  it("points at the entry when a required key is missing", () => {
    const text = GOOD.replace("  precision: bf16\n  metric: latency\n", "  metric: latency\n");
    expect(parseError("r.yaml", text).message).toMatch(/^r\.yaml:13:3: entry 2 .*field precision: missing/);
  });

  it("gives the line of a YAML syntax error", () => {
    const text = GOOD.replace("hardware: [rtx-4090]", "hardware: [rtx-4090");
    expect(parseError("broken.yaml", text).message).toMatch(/^broken\.yaml:\d+:\d+: invalid YAML/);
  });

  it("refuses a duplicate id in one file, naming both lines", () => {
    const text = GOOD.replace("id: qwen3-8b-4090", "id: qwen3-8b-h100");
    expect(parseError("dup.yaml", text).message).toBe(
      'dup.yaml:13:3: entry 2 (id "qwen3-8b-h100"): id qwen3-8b-h100 is already used at line 2',
    );
  });

  it("refuses secrets in env, GPU counts the parallel sizes do not divide, and non-https sources", () => {
    const secret = GOOD.replace("  metric: latency\n", "  metric: latency\n  env: { HF_TOKEN: hf_abc }\n");
    expect(parseError("s.yaml", secret).message).toMatch(
      /^s\.yaml:21:\d+: .*env\.HF_TOKEN: HF_TOKEN looks like a secret/,
    );
    const uneven = GOOD.replace("maxModelLen: 32768", "maxModelLen: 32768\n    tensorParallelSize: 2");
    expect(parseError("u.yaml", uneven).message).toMatch(/field gpuCount: gpuCount 1 must be a multiple/);
    const http = GOOD.replace("https://qwen.readthedocs.io", "http://qwen.readthedocs.io");
    expect(parseError("h.yaml", http).message).toMatch(/^h\.yaml:21:\d+: .*field source/);
  });

  it("reports the line of the offending entry for any entry of a long file (property)", () => {
    const base = parseRecipesFile("good.yaml", GOOD)[0];
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 11 }), (count, badRaw) => {
        const bad = badRaw % count;
        const entries = Array.from({ length: count }, (_, i) => ({
          ...base,
          id: `recipe-${i}`,
          gpuCount: i === bad ? 0 : 1,
        }));
        const text = stringify(entries);
        const lines = text.split("\n");
        const expectedLine =
          lines.findIndex(
            (line, i) => line.includes("gpuCount: 0") && i >= lines.indexOf(`- id: recipe-${bad}`),
          ) + 1;
        const error = parseError("gen.yaml", text);
        expect(error.message.startsWith(`gen.yaml:${expectedLine}:`)).toBe(true);
        expect(error.message).toContain(`entry ${bad + 1} (id "recipe-${bad}"), field gpuCount`);
      }),
      { numRuns: 40 },
    );
  });
});

describe("mergeRecipes", () => {
  const [a, b] = parseRecipesFile("good.yaml", GOOD) as [RecipeRecord["recipe"], RecipeRecord["recipe"]];
  const builtin: RecipeRecord[] = [
    { recipe: a, origin: { kind: "builtin", file: "data/recipes/qwen.yaml" } },
    { recipe: b, origin: { kind: "builtin", file: "data/recipes/qwen.yaml" } },
  ];

  it("lets a user recipe replace the built-in one with its id, in place", () => {
    const mine = { ...a, gpuCount: 2, engineArgs: { tensorParallelSize: 2 } };
    const merged = mergeRecipes(builtin, [
      { recipe: mine, origin: { kind: "user", file: "~/.servepilot/recipes/my.yaml" } },
    ]);
    expect(merged.map((r) => [r.recipe.id, r.origin.kind])).toEqual([
      ["qwen3-8b-h100", "user"],
      ["qwen3-8b-4090", "builtin"],
    ]);
    expect(merged[0]?.recipe.gpuCount).toBe(2);
  });

  it("refuses one id twice in the same layer, naming both files", () => {
    const twice: RecipeRecord[] = [
      { recipe: a, origin: { kind: "user", file: "one.yaml" } },
      { recipe: a, origin: { kind: "user", file: "two.yaml" } },
    ];
    expect(() => mergeRecipes(builtin, twice)).toThrow(
      /qwen3-8b-h100 is defined twice: in one\.yaml and in two\.yaml/,
    );
  });
});
