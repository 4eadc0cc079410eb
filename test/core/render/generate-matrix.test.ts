import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { checkArgv, parseFlagRegistry } from "../../../src/core/engines/flag-registry.js";
import { matchGpu } from "../../../src/core/gpu/match-gpu.js";
import type { EngineName } from "../../../src/core/memory/types.js";
import { describeModel } from "../../../src/core/model/describe-model.js";
import { buildPlan } from "../../../src/core/plan/build-plan.js";
import { defaultArtifactKinds, renderArtifacts } from "../../../src/core/render/artifacts.js";
import { buildDeployment } from "../../../src/core/render/build-deployment.js";
import { loadEngineCatalog } from "../../../src/runtime/catalog/engine-catalog.js";
import { loadGpuCatalog } from "../../../src/runtime/catalog/gpu-catalog.js";
import { loadModelCatalog } from "../../../src/runtime/catalog/model-catalog.js";
import { type KubernetesType, schemaErrors } from "./kubernetes-schemas.js";
import { parseManifests } from "./parse-manifests.js";
import { validateCompose, validateHelmValues, validateLeaderWorkerSet } from "./validators.js";

/**
 * Acceptance (issue "Planner: performance, artifacts, profiles"): for 10 catalog models x 3 GPU
 * setups (one AMD), every generated artifact passes every validation: Kubernetes objects against the
 * Kubernetes schemas, compose against the compose-spec schema, Helm values against the chart's
 * schema, shell scripts parse, and every engine flag is in the engine's registry for its version.
 */
const MODELS = [
  "meta-llama/Llama-3.1-8B-Instruct",
  "Qwen/Qwen3-8B",
  "Qwen/Qwen3-32B",
  "meta-llama/Llama-3.3-70B-Instruct",
  "mistralai/Mixtral-8x7B-Instruct-v0.1",
  "openai/gpt-oss-20b",
  "Qwen/Qwen3-30B-A3B",
  "google/gemma-3-27b-it",
  "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B",
  "Qwen/Qwen2.5-7B-Instruct-AWQ",
];
const SETUPS = [
  { gpu: "H100", count: 8 },
  { gpu: "L40S", count: 2 },
  { gpu: "MI300X", count: 8 },
];
const SKIP: Record<EngineName, number> = { vllm: 3, sglang: 3, llamacpp: 1 };

const [models, gpus, engines] = await Promise.all([
  loadModelCatalog(),
  loadGpuCatalog(),
  loadEngineCatalog(),
]);
const registries = Object.fromEntries(
  (["vllm", "sglang", "llamacpp"] as const).map((engine) => [
    engine,
    parseFlagRegistry(
      parse(readFileSync(new URL(`../../../data/engines/flags/${engine}.yaml`, import.meta.url), "utf8")),
      engine,
    ),
  ]),
);
const scratch = mkdtempSync(join(tmpdir(), "sp-matrix-"));

describe("generate: 10 models x 3 GPU setups", () => {
  const cases = MODELS.flatMap((model) => SETUPS.map((setup) => [model, setup.gpu, setup.count] as const));
  it.each(cases)("%s on %s x %i", (modelId, gpuName, count) => {
    const entry = models.find(modelId);
    if (!entry) throw new Error(`no catalog model ${modelId}`);
    const gpu = matchGpu(gpuName, gpus).entry;
    const plan = buildPlan({
      modelId: entry.id,
      model: describeModel({ config: entry.config, label: entry.id }),
      gpu,
      gpuCount: count,
      nodes: 1,
      gpusPerNode: count,
      engine: "vllm",
      engineVersion: null,
      engineSpecs: engines,
      efficiency: engines.efficiency,
      user: { maxModelLen: 16384 },
      workload: { promptTokens: 1024, genTokens: 256, concurrency: 16, batchingMode: "balanced" },
    });
    const deployment = buildDeployment(plan, gpu);
    const artifacts = renderArtifacts(deployment, defaultArtifactKinds(deployment));
    const byFile = Object.fromEntries(artifacts.map((a) => [a.file, a.content]));

    for (const argv of [plan.artifacts.serveArgv, deployment.serveArgv]) {
      const problems = checkArgv(registries[plan.config.engine] as Parameters<typeof checkArgv>[0], argv, {
        engine: plan.config.engine,
        version: plan.config.engineVersion,
        skip: SKIP[plan.config.engine],
      });
      expect(problems.map((p) => p.message)).toEqual([]);
    }

    const compose = parse(byFile["compose.yaml"] as string);
    expect(validateCompose(compose), JSON.stringify(validateCompose.errors)).toBe(true);

    for (const manifest of parseManifests(byFile["kubernetes.yaml"] as string)) {
      expect(schemaErrors(manifest.kind as KubernetesType, manifest), manifest.kind).toEqual([]);
    }

    if (byFile["helm-values.yaml"]) {
      const values = parse(byFile["helm-values.yaml"]);
      expect(validateHelmValues(values), JSON.stringify(validateHelmValues.errors)).toBe(true);
    }
    if (byFile["leaderworkerset.yaml"]) {
      expect(validateLeaderWorkerSet(parse(byFile["leaderworkerset.yaml"]))).toBe(true);
    }

    for (const artifact of artifacts.filter((a) => a.executable)) {
      const path = join(scratch, `${deployment.name}-${gpu.id}-${artifact.file}`);
      writeFileSync(path, artifact.content);
      execFileSync("sh", ["-n", path]); // throws on a syntax error
    }
    expect(gpu.vendor === "amd" ? byFile["docker-run.sh"] : "").toMatch(
      gpu.vendor === "amd" ? /--device=\/dev\/kfd/ : /^$/,
    );
  });
});
