/**
 * The studio's planner, catalogs and models on disk over real HTTP: plan / fit / generate (JSON and
 * zip), model and GPU catalogs, inspect, and the local model listing from a Hugging Face cache and
 * model directories laid out in a temp dir.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHfCache } from "./catalog-helpers.js";
import { startTestStudio, studioEnv, type TestStudio } from "./studio-harness.js";

let s: TestStudio;
let hfRoot: string;
beforeAll(async () => {
  hfRoot = mkdtempSync(join(tmpdir(), "sp-hf-"));
  buildHfCache(hfRoot);
  s = await startTestStudio({ env: studioEnv({ HF_HOME: hfRoot }) });
});
afterAll(async () => {
  await s.close();
});

const QWEN = { model: "Qwen/Qwen3-8B", gpu: "H100" };

describe("studio planner", () => {
  it("plans like `servepilot plan` and returns the plan contract's data object", async () => {
    const response = await s.api("/api/plan", {
      body: { ...QWEN, gpus: 2, maxModelLen: 8192, concurrency: 4 },
    });
    expect(response.status).toBe(200);
    const plan = response.body;
    expect(plan).toMatchObject({
      fits: true,
      model: { id: "Qwen/Qwen3-8B" },
      hardware: { gpuId: "h100-sxm", count: 2 },
      config: { engine: "vllm", maxModelLen: 8192 },
    });
    for (const key of [
      "reasons",
      "memory",
      "kvCache",
      "performance",
      "recommendations",
      "warnings",
      "artifacts",
    ]) {
      expect(plan).toHaveProperty(key);
    }
    expect(plan.artifacts.serveCommand).toContain("vllm serve Qwen/Qwen3-8B");
  });

  it("plans on the detected GPUs when none is named (fake nvidia-smi: 8 x H100)", async () => {
    const response = await s.api("/api/plan", { body: { model: "Qwen/Qwen3-8B" } });
    expect(response.status).toBe(200);
    expect(response.body.hardware.gpu).toMatch(/H100/);
  });

  it("answers bad input with 400 naming the field, an unknown GPU with 400, an unknown model with 404", async () => {
    const bad = await s.api("/api/plan", { body: { model: "Qwen/Qwen3-8B", gpus: 0, tp: 2 } });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(["body.gpus"]));
    expect(bad.body.error.message).toContain("tp");
    const gpu = await s.api("/api/plan", { body: { model: "Qwen/Qwen3-8B", gpu: "H999" } });
    expect(gpu.status).toBe(400);
    expect(gpu.body.error.code).toBe("UNKNOWN_GPU");
    const model = await s.api("/api/plan", { body: { model: "nobody/no-such-model", gpu: "H100" } });
    expect(model.status).toBe(404);
    expect(model.body.error.code).toBe("MODEL_NOT_FOUND");
  });

  it("fits a model across the GPU catalog", async () => {
    const response = await s.api("/api/fit", {
      body: { model: "Qwen/Qwen3-8B", vendor: "amd", maxModelLen: 8192 },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ model: { id: "Qwen/Qwen3-8B" }, engine: { name: "vllm" } });
    expect(response.body.options.length).toBeGreaterThan(0);
    expect(response.body.options.every((o: { gpuId: string }) => /^(mi|radeon|rx|w|pro)/.test(o.gpuId))).toBe(
      true,
    );
  });

  it("generates the artifacts as JSON files", async () => {
    const response = await s.api("/api/generate", { body: { ...QWEN, port: 8123 } });
    expect(response.status).toBe(200);
    const names = response.body.files.map((f: { path: string }) => f.path);
    expect(names).toEqual(expect.arrayContaining(["serve.sh", "docker-run.sh", "compose.yaml", "plan.json"]));
    const serve = response.body.files.find((f: { path: string }) => f.path === "serve.sh");
    expect(serve.executable).toBe(true);
    expect(serve.content).toContain("--port 8123");
    const only = await s.api("/api/generate", { body: { ...QWEN, emit: ["serve", "plan"] } });
    expect(only.body.files.map((f: { path: string }) => f.path).sort()).toEqual(["plan.json", "serve.sh"]);
  });

  it("generates a zip with ?format=zip or Accept: application/zip", async () => {
    for (const [query, accept] of [
      ["?format=zip", "*/*"],
      ["", "application/zip"],
    ] as const) {
      const response = await fetch(`${s.url}/api/generate${query}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept },
        body: JSON.stringify(QWEN),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/zip");
      expect(response.headers.get("content-disposition")).toContain("servepilot-deployment.zip");
      const files = unzipSync(new Uint8Array(await response.arrayBuffer()));
      expect(Object.keys(files)).toEqual(expect.arrayContaining(["serve.sh", "compose.yaml", "plan.json"]));
      const plan = JSON.parse(new TextDecoder().decode(files["plan.json"]));
      expect(plan.model.id).toBe("Qwen/Qwen3-8B");
    }
  });
});

describe("studio catalogs", () => {
  it("lists the model catalog, filtered", async () => {
    const all = await s.api("/api/catalog/models");
    expect(all.status).toBe(200);
    const qwen = await s.api("/api/catalog/models?filter=qwen3-8b");
    expect(qwen.body.count).toBeGreaterThan(0);
    expect(qwen.body.count).toBeLessThan(all.body.count);
    expect(qwen.body.models[0]).toMatchObject({
      id: expect.stringMatching(/Qwen3-8B/i),
      params: { total: expect.any(Number) },
    });
  });

  it("lists the GPU catalog by vendor and refuses an unknown vendor", async () => {
    const amd = await s.api("/api/catalog/gpus?vendor=amd");
    expect(amd.status).toBe(200);
    expect(amd.body.count).toBeGreaterThan(0);
    expect(amd.body.gpus.every((g: { vendor: string }) => g.vendor === "amd")).toBe(true);
    const h100 = await s.api("/api/catalog/gpus?filter=h100");
    expect(h100.body.gpus.map((g: { id: string }) => g.id)).toContain("h100-sxm");
    const bad = await s.api("/api/catalog/gpus?vendor=intel");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields[0].field).toBe("querystring.vendor");
  });

  it("lists the engine releases the planner models, and a plan takes each", async () => {
    const response = await s.api("/api/catalog/engines");
    expect(response.status).toBe(200);
    const engines = response.body.engines as Array<{
      engine: string;
      defaultVersion: string;
      releases: Array<{ id: string; earliest: string }>;
    }>;
    expect(engines.map((e) => e.engine)).toEqual(["vllm", "sglang", "llamacpp"]);
    const vllm = engines[0];
    const oldest = vllm?.releases.at(-1);
    const plan = await s.api("/api/plan", {
      body: { model: "Qwen/Qwen3-8B", gpu: "h100-sxm", engine: "vllm", engineVersion: oldest?.earliest },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.config.engineVersion).toBe(oldest?.earliest);
    const byDefault = await s.api("/api/plan", { body: { model: "Qwen/Qwen3-8B", gpu: "h100-sxm" } });
    expect(byDefault.body.config.engineVersion).toBe(vllm?.defaultVersion);
  });

  it("inspects a model offline", async () => {
    const response = await s.api("/api/models/inspect?model=Qwen/Qwen3-8B");
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      model: { id: "Qwen/Qwen3-8B", origin: { kind: "catalog" } },
      architecture: { modelType: "qwen3" },
    });
    expect(response.body.kvCache).toBeDefined();
    const missing = await s.api("/api/models/inspect");
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields[0].field).toBe("querystring.model");
  });
});

describe("studio models on disk", () => {
  it("lists the HF cache (HF_HOME from the studio's env) and model directories", async () => {
    const modelsDir = join(s.dataDir, "models");
    mkdirSync(join(modelsDir, "my-llama"), { recursive: true });
    writeFileSync(join(modelsDir, "my-llama", "config.json"), "{}");
    writeFileSync(join(modelsDir, "my-llama", "model.safetensors"), "x".repeat(64));
    mkdirSync(join(modelsDir, "ggufs"));
    writeFileSync(join(modelsDir, "ggufs", "tiny-Q4_K_M.gguf"), "g");
    mkdirSync(join(modelsDir, "empty"));
    const response = await s.api("/api/models/local");
    expect(response.status).toBe(200);
    expect(response.body.hfCache.dir).toBe(join(hfRoot, "hub"));
    expect(response.body.hfCache.models).toEqual([
      expect.objectContaining({
        repo: "acme/tiny-model",
        hasConfig: true,
        refs: { main: "a".repeat(40) },
        incompleteBytes: 10,
      }),
    ]);
    expect(response.body.local.models).toEqual([
      expect.objectContaining({ name: "ggufs", format: "gguf", ggufFiles: ["tiny-Q4_K_M.gguf"] }),
      expect.objectContaining({ name: "my-llama", format: "safetensors", hasConfig: true, sizeBytes: 66 }),
    ]);

    const named = await s.api(`/api/models/local?dirs=${encodeURIComponent(join(modelsDir, "my-llama"))}`);
    expect(named.body.local.models.map((m: { name: string }) => m.name)).toEqual(["my-llama"]);
  });

  it("refuses relative or missing directories, naming each", async () => {
    const response = await s.api(`/api/models/local?dirs=${encodeURIComponent("models,/no/such/dir")}`);
    expect(response.status).toBe(400);
    expect(response.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual([
      "querystring.dirs.0",
      "querystring.dirs.1",
    ]);
  });
});
