/**
 * Deleting models on disk through the studio: a Hugging Face cache repo and a model directory under
 * <dataDir>/models, each named by the listing's own keys; 404 for what the listing does not show, 400
 * for ids shaped like paths (nothing outside is touched), and 409 while an instance (the vLLM emulator)
 * serves the model.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildHfCache, openEvents, waitFor } from "./catalog-helpers.js";
import { cleanUp, enginePortBase, openStudio } from "./lifecycle-helpers.js";
import { startTestStudio, studioEnv, type TestStudio } from "./studio-harness.js";

const QWEN_CONFIG = readFileSync(
  new URL("../fixtures/models/qwen3-0.6b/config.json", import.meta.url),
  "utf8",
);

function modelDir(parent: string, name: string, weightBytes = 64): string {
  const dir = join(parent, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), "{}");
  writeFileSync(join(dir, "model.safetensors"), "x".repeat(weightBytes));
  return dir;
}

describe("studio model deletion", () => {
  let s: TestStudio;
  let hfRoot: string;
  let cacheDir: string;
  beforeAll(async () => {
    hfRoot = mkdtempSync(join(tmpdir(), "sp-hf-del-"));
    cacheDir = buildHfCache(hfRoot).cacheDir;
    buildHfCache(hfRoot, "acme/other-model");
    // what a deletion interrupted by a crash leaves: removed when the studio starts
    mkdirSync(join(cacheDir, ".servepilot-deleting-models--acme--old-0123abcd", "blobs"), {
      recursive: true,
    });
    s = await startTestStudio({ env: studioEnv({ HF_HOME: hfRoot }) });
  });
  afterAll(async () => {
    await s.close();
  });

  it("deletes a cached repo's folder, reports the bytes freed and publishes a model event", async () => {
    const events = await openEvents(s.url, "model");
    try {
      const before = await s.api("/api/models/local");
      const listed = before.body.hfCache.models.find((m: { repo: string }) => m.repo === "acme/tiny-model");
      expect(listed.path).toBe(join(cacheDir, "models--acme--tiny-model"));

      const response = await s.api("/api/models/local/hf-cache?repo=acme/tiny-model", { method: "DELETE" });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ kind: "hf-cache", id: "acme/tiny-model", path: listed.path });
      // the blobs (config 22 + weights 1000 + incomplete 10) and the 40-byte refs/main
      expect(response.body.freedBytes).toBe(listed.sizeBytes + 40);
      expect(existsSync(listed.path)).toBe(false);
      // nothing parked is left behind (nor the crash's leftover), and the neighbours are untouched
      expect(readdirSync(cacheDir).sort()).toEqual(["datasets--acme--data", "models--acme--other-model"]);

      const after = await s.api("/api/models/local");
      expect(after.body.hfCache.models.map((m: { repo: string }) => m.repo)).toEqual(["acme/other-model"]);
      await waitFor(() => events.events.length > 0, "a model event");
      expect(events.events[0]).toMatchObject({
        event: "model",
        data: {
          action: "deleted",
          kind: "hf-cache",
          id: "acme/tiny-model",
          freedBytes: response.body.freedBytes,
        },
      });

      const again = await s.api("/api/models/local/hf-cache?repo=acme/tiny-model", { method: "DELETE" });
      expect(again.status).toBe(404);
      expect(again.body.error.code).toBe("NOT_FOUND");
    } finally {
      events.close();
    }
  });

  it("deletes a model directory under <dataDir>/models by its name", async () => {
    const modelsDir = join(s.dataDir, "models");
    const dir = modelDir(modelsDir, "my-llama");
    modelDir(modelsDir, "keep-me");
    const response = await s.api("/api/models/local/dirs?name=my-llama", { method: "DELETE" });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ kind: "local", id: "my-llama", path: dir, freedBytes: 66 });
    expect(existsSync(dir)).toBe(false);
    expect(readdirSync(modelsDir)).toEqual(["keep-me"]);
    const after = await s.api("/api/models/local");
    expect(after.body.local.models.map((m: { name: string }) => m.name)).toEqual(["keep-me"]);
  });

  it("answers 404 for what the listing does not show as a deletable model", async () => {
    const modelsDir = join(s.dataDir, "models");
    mkdirSync(join(modelsDir, "not-a-model"), { recursive: true });
    const elsewhere = mkdtempSync(join(tmpdir(), "sp-models-elsewhere-"));
    modelDir(elsewhere, "outside");
    for (const path of [
      "/api/models/local/hf-cache?repo=acme/no-such-model",
      "/api/models/local/hf-cache?repo=acme/data", // a dataset, not a model
      "/api/models/local/dirs?name=no-such-dir",
      "/api/models/local/dirs?name=not-a-model", // no config.json nor .gguf
      "/api/models/local/dirs?name=outside", // listed with ?dirs=, but not under <dataDir>/models
    ]) {
      const response = await s.api(path, { method: "DELETE" });
      expect(response.status, path).toBe(404);
      expect(response.body.error.code).toBe("NOT_FOUND");
    }
    expect(existsSync(join(modelsDir, "not-a-model"))).toBe(true);
    expect(existsSync(join(elsewhere, "outside", "config.json"))).toBe(true);
    expect(existsSync(join(cacheDir, "datasets--acme--data"))).toBe(true);
  });

  it("refuses ids shaped like paths with 400 or 404, and deletes nothing", async () => {
    const modelsDir = join(s.dataDir, "models");
    const victim = modelDir(s.dataDir, "victim"); // a model directory beside models/, not in it
    const cacheVictim = join(hfRoot, "models--evil--x");
    modelDir(hfRoot, "models--evil--x");
    modelDir(modelsDir, "keep-me");
    const attempts = [
      `hf-cache?repo=${encodeURIComponent("../models--evil--x")}`,
      `hf-cache?repo=${encodeURIComponent("acme/../../victim")}`,
      `hf-cache?repo=${encodeURIComponent("/etc/passwd")}`,
      `hf-cache?repo=${encodeURIComponent("models--acme--other-model")}`,
      `hf-cache?repo=${encodeURIComponent("acme/other-model/../..")}`,
      "hf-cache?repo=",
      "hf-cache",
      `dirs?name=${encodeURIComponent("../victim")}`,
      `dirs?name=${encodeURIComponent("..")}`,
      `dirs?name=${encodeURIComponent(".")}`,
      `dirs?name=${encodeURIComponent(victim)}`,
      `dirs?name=${encodeURIComponent("keep-me/../../victim")}`,
      `dirs?name=${encodeURIComponent("..\\victim")}`,
      `dirs?name=${encodeURIComponent("keep-me\0")}`,
      "dirs?name=%2e%2e",
      "dirs?name=",
      "dirs",
    ];
    for (const attempt of attempts) {
      const response = await s.api(`/api/models/local/${attempt}`, { method: "DELETE" });
      expect([400, 404], attempt).toContain(response.status);
      if (response.status === 400) {
        expect(response.body.error.code).toBe("INVALID_ARGUMENT");
        expect(response.body.error.details.fields[0].field).toMatch(/^querystring\.(repo|name)$/);
      }
    }
    expect(existsSync(join(victim, "model.safetensors"))).toBe(true);
    expect(existsSync(join(cacheVictim, "config.json"))).toBe(true);
    expect(existsSync(join(modelsDir, "keep-me", "model.safetensors"))).toBe(true);
    expect(existsSync(join(cacheDir, "models--acme--other-model", "refs", "main"))).toBe(true);
  });

  it("describes both routes in the OpenAPI document", async () => {
    const openapi = await s.api("/api/openapi.json");
    expect(openapi.body.paths["/api/models/local/hf-cache"].delete).toBeDefined();
    expect(openapi.body.paths["/api/models/local/dirs"].delete).toBeDefined();
  });
});

describe("studio model deletion while an instance serves the model", () => {
  afterEach(cleanUp);

  it("answers 409 naming the instance, deletes once it is stopped", async () => {
    const hfRoot = mkdtempSync(join(tmpdir(), "sp-hf-del-"));
    const { cacheDir, commit } = buildHfCache(hfRoot, "Qwen/Qwen3-0.6B", QWEN_CONFIG);
    // config.json only: the fixture's weight file is not a real safetensors file
    rmSync(join(cacheDir, "models--Qwen--Qwen3-0.6B", "snapshots", commit, "model.safetensors"));
    const s = await openStudio({
      env: studioEnv({ HF_HOME: hfRoot, SERVEPILOT_PORT: enginePortBase() }),
    });
    const local = join(s.dataDir, "models", "qwen-local");
    mkdirSync(local, { recursive: true });
    writeFileSync(join(local, "config.json"), QWEN_CONFIG);

    const fromCache = await s.api("/api/instances", {
      body: { model: "Qwen/Qwen3-0.6B", name: "cached", timeoutSeconds: 60 },
    });
    expect(fromCache.status, JSON.stringify(fromCache.body)).toBe(202);
    const fromDir = await s.api("/api/instances", {
      body: { model: local, name: "local", timeoutSeconds: 60 },
    });
    expect(fromDir.status).toBe(202);

    const cached = await s.api("/api/models/local/hf-cache?repo=Qwen/Qwen3-0.6B", { method: "DELETE" });
    expect(cached.status).toBe(409);
    expect(cached.body.error.code).toBe("CONFLICT");
    expect(cached.body.error.message).toContain("cached");
    expect(cached.body.error.details.instances).toEqual(["cached"]);
    const dir = await s.api("/api/models/local/dirs?name=qwen-local", { method: "DELETE" });
    expect(dir.status).toBe(409);
    expect(dir.body.error.message).toContain("local");
    expect(dir.body.error.details.instances).toEqual(["local"]);
    expect(existsSync(join(cacheDir, "models--Qwen--Qwen3-0.6B", "refs", "main"))).toBe(true);
    expect(existsSync(join(local, "config.json"))).toBe(true);

    for (const name of ["cached", "local"]) {
      expect((await s.api(`/api/instances/${name}/stop`, { body: { graceSeconds: 2 } })).status).toBe(200);
    }
    const cachedAgain = await s.api("/api/models/local/hf-cache?repo=Qwen/Qwen3-0.6B", { method: "DELETE" });
    expect(cachedAgain.status).toBe(200);
    const dirAgain = await s.api("/api/models/local/dirs?name=qwen-local", { method: "DELETE" });
    expect(dirAgain.status).toBe(200);
    expect(existsSync(join(cacheDir, "models--Qwen--Qwen3-0.6B"))).toBe(false);
    expect(existsSync(local)).toBe(false);
  });
});
