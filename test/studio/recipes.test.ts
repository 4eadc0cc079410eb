/**
 * /api/recipes over real HTTP against a real studio (real SQLite): CRUD, per-field validation, the
 * security policy (loader env, engine program, engine flags), import all-or-nothing, export → import
 * round trips, and recipes made from a plan.
 */

import { join } from "node:path";
import SQLite from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { getStoredRecipe } from "../../src/studio/recipes/store.js";
import { validRecipe } from "./catalog-helpers.js";
import { startTestStudio, type TestStudio } from "./studio-harness.js";

const open: TestStudio[] = [];
async function studio(options: Parameters<typeof startTestStudio>[0] = {}) {
  const s = await startTestStudio(options);
  open.push(s);
  return s;
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

function fieldsOf(body: { error: { details: { fields: Array<{ field: string }> } } }): string[] {
  return body.error.details.fields.map((f) => f.field);
}

/** POSTs text with its own content type (the harness always sends JSON). */
async function postText(s: TestStudio, path: string, text: string, contentType: string) {
  const response = await fetch(`${s.url}${path}`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: text,
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests navigate response bodies freely
  const body: any = await response.json();
  return { status: response.status, body };
}

function rowCount(s: TestStudio): number {
  const db = new SQLite(join(s.dataDir, "studio.db"), { readonly: true });
  try {
    return (db.prepare("select count(*) as n from recipes").get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("studio recipes: CRUD", () => {
  it("creates, reads, lists, updates and deletes a studio recipe", async () => {
    const s = await studio();
    const created = await s.api("/api/recipes", { body: validRecipe() });
    expect(created.status).toBe(201);
    expect(created.headers.get("location")).toBe("/api/recipes/my-qwen3-8b-h100");
    expect(created.body).toMatchObject({
      id: "my-qwen3-8b-h100",
      source: "studio",
      recipe: { model: "Qwen/Qwen3-8B", extraArgs: ["--enable-prefix-caching"], autoRestart: true },
    });

    const again = await s.api("/api/recipes", { body: validRecipe() });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("CONFLICT");

    const one = await s.api("/api/recipes/my-qwen3-8b-h100");
    expect(one.status).toBe(200);
    expect(one.body.recipe.engineArgs).toEqual({ maxModelLen: 32768, maxNumSeqs: 128 });

    const list = await s.api("/api/recipes");
    const sources = new Set(list.body.recipes.map((r: { source: string }) => r.source));
    expect(sources).toEqual(new Set(["studio", "builtin"]));
    expect(list.body.recipes[0].id).toBe("my-qwen3-8b-h100");
    const studioOnly = await s.api("/api/recipes?source=studio");
    expect(studioOnly.body.count).toBe(1);

    const updated = await s.api("/api/recipes/my-qwen3-8b-h100", {
      method: "PUT",
      body: validRecipe({ engineArgs: { maxModelLen: 8192 }, autoRestart: false }),
    });
    expect(updated.status).toBe(200);
    expect(updated.body.recipe).toMatchObject({ engineArgs: { maxModelLen: 8192 }, autoRestart: false });
    const stored = await getStoredRecipe(s.ctx.db, "my-qwen3-8b-h100");
    expect(stored).toMatchObject({
      recipe: { id: "my-qwen3-8b-h100", engineArgs: { maxModelLen: 8192 } },
      extraArgs: ["--enable-prefix-caching"],
      autoRestart: false,
      engineProgram: null,
    });

    const mismatch = await s.api("/api/recipes/my-qwen3-8b-h100", {
      method: "PUT",
      body: validRecipe({ id: "other-id" }),
    });
    expect(mismatch.status).toBe(400);
    expect(fieldsOf(mismatch.body)).toEqual(["body.id"]);

    expect((await s.api("/api/recipes/my-qwen3-8b-h100", { method: "DELETE" })).body).toEqual({
      deleted: "my-qwen3-8b-h100",
    });
    expect((await s.api("/api/recipes/my-qwen3-8b-h100")).status).toBe(404);
    expect((await s.api("/api/recipes/my-qwen3-8b-h100", { method: "DELETE" })).status).toBe(404);
    expect(await getStoredRecipe(s.ctx.db, "my-qwen3-8b-h100")).toBeNull();
  });

  it("shows built-in recipes but refuses to delete, change or shadow them", async () => {
    const s = await studio();
    const builtin = await s.api("/api/recipes/qwen3-8b-h100-bf16-throughput");
    expect(builtin.status).toBe(200);
    expect(builtin.body).toMatchObject({ source: "builtin", file: expect.stringContaining("recipes") });
    const del = await s.api("/api/recipes/qwen3-8b-h100-bf16-throughput", { method: "DELETE" });
    expect(del.status).toBe(409);
    const put = await s.api("/api/recipes/qwen3-8b-h100-bf16-throughput", {
      method: "PUT",
      body: validRecipe({ id: "qwen3-8b-h100-bf16-throughput" }),
    });
    expect(put.status).toBe(409);
    const shadow = await s.api("/api/recipes", {
      body: validRecipe({ id: "qwen3-8b-h100-bf16-throughput" }),
    });
    expect(shadow.status).toBe(409);
    expect(
      (
        await s.api("/api/recipes/no-such-recipe", {
          method: "PUT",
          body: validRecipe({ id: "no-such-recipe" }),
        })
      ).status,
    ).toBe(404);
  });

  it("marks recipes from the recipe directory as file recipes", async () => {
    const { mkdirSync, writeFileSync } = await import("node:fs");
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dataDir = mkdtempSync(join(tmpdir(), "sp-studio-"));
    mkdirSync(join(dataDir, "recipes"));
    const { extraArgs: _e, autoRestart: _a, ...plain } = validRecipe({ id: "from-a-file" });
    writeFileSync(join(dataDir, "recipes", "mine.yaml"), JSON.stringify([plain]));
    const s = await studio({ dataDir });
    const entry = await s.api("/api/recipes/from-a-file");
    expect(entry.body).toMatchObject({ source: "file", file: join(dataDir, "recipes", "mine.yaml") });
    expect((await s.api("/api/recipes/from-a-file", { method: "DELETE" })).status).toBe(409);
  });
});

describe("studio recipes: validation", () => {
  it("names every invalid field with 400 and details.fields", async () => {
    const s = await studio();
    const response = await s.api("/api/recipes", {
      body: validRecipe({
        id: "Not A Slug",
        gpuCount: 3,
        engineArgs: { tensorParallelSize: 2, bogus: 1 },
        extraArgs: ["--enable-prefix-caching", "--no-such-flag"],
      }),
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("INVALID_ARGUMENT");
    expect(fieldsOf(response.body)).toEqual(
      expect.arrayContaining(["body.id", "body.gpuCount", "body.engineArgs.bogus", "body.extraArgs.1"]),
    );
    const missing = await s.api("/api/recipes", { body: { id: "only-an-id" } });
    expect(missing.status).toBe(400);
    expect(fieldsOf(missing.body)).toEqual(
      expect.arrayContaining(["body.model", "body.engine", "body.hardware", "body.source"]),
    );
    const wrongType = await s.api("/api/recipes", {
      body: validRecipe({ engineArgs: { maxModelLen: "long" } }),
    });
    expect(wrongType.status).toBe(400);
    expect(fieldsOf(wrongType.body)).toEqual(["body.engineArgs.maxModelLen"]);
    expect(rowCount(s)).toBe(0);
  });

  it("validate answers 200 with {valid, errors} for a form", async () => {
    const s = await studio();
    const good = await s.api("/api/recipes/validate", { body: validRecipe() });
    expect(good.status).toBe(200);
    expect(good.body).toEqual({ valid: true, errors: [] });
    const bad = await s.api("/api/recipes/validate", {
      body: validRecipe({ engineArgs: { maxModelLen: -1 }, extraArgs: ["--max-modl-len", "4096"] }),
    });
    expect(bad.status).toBe(200);
    expect(bad.body.valid).toBe(false);
    const byField = Object.fromEntries(
      bad.body.errors.map((e: { field: string; message: string }) => [e.field, e.message]),
    );
    expect(Object.keys(byField).sort()).toEqual(["engineArgs.maxModelLen", "extraArgs.0"]);
    expect(byField["extraArgs.0"]).toContain("did you mean --max-model-len?");
    expect(rowCount(s)).toBe(0);
  });
});

describe("studio recipes: security", () => {
  it("refuses loader env, an engine program, unknown flags and flags servepilot sets", async () => {
    const s = await studio();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ env: { LD_PRELOAD: "/tmp/evil.so" } }, "body.env.LD_PRELOAD", /allowCustomCommands/],
      [
        { env: { DYLD_INSERT_LIBRARIES: "/tmp/evil.dylib" } },
        "body.env.DYLD_INSERT_LIBRARIES",
        /allowCustomCommands/,
      ],
      [{ env: { PYTHONPATH: "/tmp" } }, "body.env.PYTHONPATH", /allowCustomCommands/],
      [{ engineProgram: "/tmp/evil.sh" }, "body.engineProgram", /allowCustomCommands/],
      [
        { extraArgs: ["--enable-prefix-caching", "--exec-this"] },
        "body.extraArgs.1",
        /--exec-this is not a vLLM flag/,
      ],
      [{ extraArgs: ["--port", "9999"] }, "body.extraArgs.0", /--port cannot be set/],
      [{ extraArgs: ["--served_model_name=x"] }, "body.extraArgs.0", /cannot be set/],
      [{ extraArgs: ["-tp", "2"] }, "body.extraArgs.0", /engineArgs.tensorParallelSize/],
      [{ env: { HF_TOKEN: "hf_secret" } }, "body.env.HF_TOKEN", /looks like a secret/],
    ];
    for (const [overrides, field, message] of cases) {
      const response = await s.api("/api/recipes", { body: validRecipe(overrides) });
      expect(response.status, JSON.stringify(overrides)).toBe(400);
      const error = response.body.error.details.fields.find((f: { field: string }) => f.field === field);
      expect(error, `${field} in ${JSON.stringify(response.body)}`).toBeDefined();
      expect(error.message).toMatch(message);
    }
    expect(rowCount(s)).toBe(0);
  });

  it("with allowCustomCommands accepts loader env and an engine program, never secrets or bad flags", async () => {
    const s = await studio({ allowCustomCommands: true });
    const created = await s.api("/api/recipes", {
      body: validRecipe({ env: { LD_PRELOAD: "/opt/lib/hook.so" }, engineProgram: "/opt/vllm/bin/vllm" }),
    });
    expect(created.status).toBe(201);
    expect(await getStoredRecipe(s.ctx.db, "my-qwen3-8b-h100")).toMatchObject({
      engineProgram: "/opt/vllm/bin/vllm",
      recipe: { env: { LD_PRELOAD: "/opt/lib/hook.so" } },
    });
    expect(
      (await s.api("/api/recipes", { body: validRecipe({ id: "x-1", env: { HF_TOKEN: "t" } }) })).status,
    ).toBe(400);
    expect(
      (await s.api("/api/recipes", { body: validRecipe({ id: "x-2", extraArgs: ["--port", "1"] }) })).status,
    ).toBe(400);
  });
});

describe("studio recipes: import and export", () => {
  it("imports all or nothing: one bad entry writes nothing and is named by index and field", async () => {
    const s = await studio();
    const entries = [
      validRecipe({ id: "good-one" }),
      validRecipe({ id: "bad-one", env: { LD_PRELOAD: "x" } }),
    ];
    const response = await postText(
      s,
      "/api/recipes/import?format=json",
      JSON.stringify(entries),
      "text/plain",
    );
    expect(response.status).toBe(400);
    expect(response.body.error.details.fields).toEqual([
      { field: "entries.1.env.LD_PRELOAD", message: expect.stringContaining("allowCustomCommands") },
    ]);
    expect(rowCount(s)).toBe(0);

    const duplicate = await s.api("/api/recipes/import", {
      body: [validRecipe({ id: "same" }), validRecipe({ id: "same" })],
    });
    expect(duplicate.status).toBe(400);
    expect(fieldsOf(duplicate.body)).toEqual(["entries.1.id"]);

    const yaml = `- ${JSON.stringify(validRecipe({ id: "yaml-one" }))}\n- id: [unclosed\n`;
    const broken = await postText(s, "/api/recipes/import?format=yaml", yaml, "application/yaml");
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toMatch(/invalid YAML at line \d+, column \d+/);
    expect(rowCount(s)).toBe(0);

    const ok = await s.api("/api/recipes/import", {
      body: [validRecipe({ id: "good-one" }), validRecipe({ id: "good-two" })],
    });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ imported: ["good-one", "good-two"], count: 2 });
    const conflict = await s.api("/api/recipes/import", {
      body: [validRecipe({ id: "good-three" }), validRecipe({ id: "good-one" })],
    });
    expect(conflict.status).toBe(409);
    expect(rowCount(s)).toBe(2);
    const replaced = await s.api("/api/recipes/import?replace=true", {
      body: [validRecipe({ id: "good-one", autoRestart: false })],
    });
    expect(replaced.status).toBe(201);
    expect((await getStoredRecipe(s.ctx.db, "good-one"))?.autoRestart).toBe(false);
  });

  for (const format of ["yaml", "json"] as const) {
    it(`export → import round trip (${format})`, async () => {
      const source = await studio({ allowCustomCommands: true });
      await source.api("/api/recipes", { body: validRecipe({ id: "round-one" }) });
      await source.api("/api/recipes", {
        body: validRecipe({
          id: "round-two",
          engine: "llamacpp",
          engineVersion: "b6981",
          model: "Qwen/Qwen3-8B-GGUF",
          extraArgs: ["--flash-attn", "on"],
          engineProgram: "/opt/llama/llama-server",
        }),
      });
      const exported = await source.api(`/api/recipes/export?format=${format}`);
      expect(exported.status).toBe(200);
      expect(exported.headers.get("content-type")).toContain(
        format === "json" ? "application/json" : "application/yaml",
      );
      expect(exported.headers.get("content-disposition")).toBe(
        `attachment; filename="servepilot-recipes.${format}"`,
      );
      const text = typeof exported.body === "string" ? exported.body : JSON.stringify(exported.body);
      const documents = format === "json" ? JSON.parse(text) : parse(text);
      expect(documents.map((d: { id: string }) => d.id)).toEqual(["round-one", "round-two"]);

      const target = await studio({ allowCustomCommands: true });
      const imported = await postText(
        target,
        `/api/recipes/import?format=${format}`,
        text,
        format === "json" ? "text/plain" : "text/yaml",
      );
      expect(imported.status, JSON.stringify(imported.body)).toBe(201);
      for (const id of ["round-one", "round-two"]) {
        expect(await getStoredRecipe(target.ctx.db, id)).toEqual(await getStoredRecipe(source.ctx.db, id));
      }
    });
  }
});

describe("studio recipes: from a plan", () => {
  it("plans a model on a GPU and stores the planned configuration", async () => {
    const s = await studio();
    const response = await s.api("/api/recipes/from-plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "H100", maxModelLen: 16384, metric: "latency" },
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body.plan.fits).toBe(true);
    expect(response.body.recipe).toMatchObject({
      id: "qwen3-8b-h100-sxm-bf16-latency",
      source: "studio",
      recipe: {
        model: "Qwen/Qwen3-8B",
        engine: "vllm",
        hardware: ["h100-sxm"],
        gpuCount: 1,
        precision: "bf16",
        metric: "latency",
        engineArgs: { maxModelLen: 16384, tensorParallelSize: 1 },
      },
    });
    const plan = await s.api("/api/plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "H100", maxModelLen: 16384 },
    });
    expect(response.body.recipe.recipe.engineArgs.gpuMemoryUtilization).toBe(
      plan.body.config.gpuMemoryUtilization,
    );
    expect(response.body.recipe.recipe.engineVersion).toBe(plan.body.config.engineVersion);
    const again = await s.api("/api/recipes/from-plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "H100", maxModelLen: 16384, metric: "latency" },
    });
    expect(again.status).toBe(409);
    const named = await s.api("/api/recipes/from-plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "H100", id: "Bad Id" },
    });
    expect(named.status).toBe(400);
    expect(fieldsOf(named.body)).toEqual(["body.id"]);
    const unknownGpu = await s.api("/api/recipes/from-plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "H999" },
    });
    expect(unknownGpu.status).toBe(400);
    expect(unknownGpu.body.error.code).toBe("UNKNOWN_GPU");
  });
});
