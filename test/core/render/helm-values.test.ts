import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ServepilotError } from "../../../src/core/errors.js";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { resolveContainerCommand } from "../../../src/core/render/docker-run.js";
import { renderHelmValues } from "../../../src/core/render/helm-values.js";
import {
  amdMi300x,
  cachedSnapshot,
  customImage,
  HOSTILE_MODEL,
  hostileName,
  multiNode2x8,
  nvidiaOneGpu,
  nvidiaTp8,
  sglangTp2,
} from "./deployment-cases.js";
import { expandKubernetes } from "./interpolation.js";
import { schemaErrors, typeErrors } from "./kubernetes-schemas.js";
import type { Manifest } from "./parse-manifests.js";
import { ajvHelm as ajv, validateHelmValues as validateValues } from "./validators.js";

const VLLM_CASES = {
  nvidiaOneGpu,
  nvidiaTp8,
  amdMi300x,
  hostileName,
  cachedSnapshot,
  customImage,
  multiNode2x8,
};

function values(d: Deployment): { values: Manifest; modelSpec: Manifest } {
  const text = renderHelmValues(d);
  const parsed = parse(text, { version: "1.1" }) as Manifest;
  expect(parse(text, { version: "1.2" })).toEqual(parsed);
  return { values: parsed, modelSpec: parsed.servingEngineSpec.modelSpec[0] };
}

/**
 * The engine command the chart's Deployment template builds from the values
 * (helm/templates/deployment-vllm-multi.yaml), after Kubernetes' $(VAR) expansion.
 */
function chartCommand(v: Manifest): string[] {
  const spec = v.servingEngineSpec;
  const model = spec.modelSpec[0];
  const c = model.vllmConfig ?? {};
  const argv = [
    "vllm",
    "serve",
    model.modelURL,
    "--host",
    "0.0.0.0",
    "--port",
    String(spec.containerPort ?? 8000),
  ];
  if ("enableChunkedPrefill" in c)
    argv.push(c.enableChunkedPrefill ? "--enable-chunked-prefill" : "--no-enable-chunked-prefill");
  argv.push(c.enablePrefixCaching ? "--enable-prefix-caching" : "--no-enable-prefix-caching");
  const keyed: [string, string][] = [
    ["maxModelLen", "--max-model-len"],
    ["dtype", "--dtype"],
    ["tensorParallelSize", "--tensor-parallel-size"],
    ["maxNumSeqs", "--max-num-seqs"],
    ["gpuMemoryUtilization", "--gpu_memory_utilization"],
  ];
  for (const [key, flag] of keyed) if (key in c) argv.push(flag, String(c[key]));
  argv.push(...(c.extraArgs ?? []));
  const env = Object.fromEntries([
    ...(model.env ?? []).map((e: Manifest) => [e.name, e.value]),
    ["HF_TOKEN", "hf_secret"],
  ]);
  return argv.map((arg) => expandKubernetes(arg, env));
}

/** Options as vLLM's parser reads them: `_` and `-` alike in names, boolean flags as "true". */
function options(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 3; i < argv.length; i++) {
    const arg = argv[i] as string;
    expect(arg.startsWith("--"), `positional ${arg}`).toBe(true);
    const name = arg.replaceAll("_", "-");
    const next = argv[i + 1];
    expect(out.has(name), `${name} given twice`).toBe(false);
    if (next !== undefined && !next.startsWith("--")) {
      out.set(name, next);
      i++;
    } else {
      out.set(name, "true");
    }
  }
  return out;
}

describe("renderHelmValues", () => {
  it("writes values that validate against the chart's value types and Kubernetes node selector terms", () => {
    for (const [name, d] of Object.entries(VLLM_CASES)) {
      const { values: v, modelSpec } = values(d);
      expect(validateValues(v) ? [] : ajv.errorsText(validateValues.errors), name).toEqual([]);
      for (const term of modelSpec.nodeSelectorTerms ?? []) {
        expect(schemaErrors("NodeSelectorTerm", term), name).toEqual([]);
      }
    }
    const terms = Object.values(VLLM_CASES).flatMap((d) => values(d).modelSpec.nodeSelectorTerms ?? []);
    expect(typeErrors(terms.map((value: unknown) => ({ type: "NodeSelectorTerm" as const, value })))).toEqual(
      [],
    );
  });

  it("has a schema check that refuses a key the chart does not read", () => {
    const { values: v, modelSpec } = values(nvidiaOneGpu);
    modelSpec.vllmConfig.tensorParallelsize = 2;
    expect(validateValues(v)).toBe(false);
  });

  it("makes the chart run the same engine command as the plan (flags in vllmConfig or extraArgs)", () => {
    for (const [name, d] of Object.entries({
      nvidiaOneGpu,
      nvidiaTp8,
      amdMi300x,
      hostileName,
      cachedSnapshot,
    })) {
      const command = chartCommand(values(d).values);
      const planned = resolveContainerCommand(d, "/data").argv;
      expect(command.slice(0, 3), name).toEqual(planned.slice(0, 3));
      const expected = options(planned);
      expected.set("--host", "0.0.0.0");
      expected.set("--enable-prefix-caching", "true");
      // always written: the chart mounts /dev/shm only when vllmConfig has tensorParallelSize
      expected.set("--tensor-parallel-size", String(d.tensorParallelSize));
      expect(options(command), name).toEqual(expected);
    }
  });

  it("keeps what the chart has no key for in extraArgs, in order", () => {
    expect(values(nvidiaTp8).modelSpec.vllmConfig).toEqual({
      maxModelLen: 32768,
      gpuMemoryUtilization: 0.92,
      tensorParallelSize: 8,
      enablePrefixCaching: true,
      extraArgs: ["--kv-cache-dtype", "fp8"],
    });
  });

  it("keeps a hostile model name and flag value from Kubernetes expansion", () => {
    const command = chartCommand(values(hostileName).values);
    expect(command[2]).toBe(HOSTILE_MODEL);
    expect(
      command.slice(command.indexOf("--served-model-name"), command.indexOf("--served-model-name") + 2),
    ).toEqual(["--served-model-name", "it's $HOME"]);
  });

  it("describes image, resources, cache, shared memory, token Secret and node selection", () => {
    const { values: v, modelSpec } = values(nvidiaTp8);
    expect(modelSpec).toMatchObject({
      name: "llama-3-1-70b-instruct",
      repository: "vllm/vllm-openai",
      tag: "v0.11.0",
      modelURL: "meta-llama/Llama-3.1-70B-Instruct",
      replicaCount: 1,
      requestGPU: 8,
      pvcStorage: "190Gi",
      shmSize: "16Gi",
      hf_token: { secretName: "hf-token", secretKey: "token" },
      nodeSelectorTerms: [
        {
          matchExpressions: [
            { key: "nvidia.com/gpu.product", operator: "In", values: ["NVIDIA-H100-80GB-HBM3"] },
          ],
        },
      ],
    });
    expect(modelSpec.requestGPUType).toBeUndefined();
    const probe = v.servingEngineSpec.startupProbe;
    expect(probe.httpGet).toEqual({ path: "/health", port: 8000 });
    expect(probe.failureThreshold * probe.periodSeconds).toBeGreaterThanOrEqual(nvidiaTp8.startupSeconds);
  });

  it("requests amd.com/gpu without the NVIDIA runtime class or host device selection on AMD", () => {
    const { modelSpec } = values(amdMi300x);
    expect(modelSpec).toMatchObject({ repository: "rocm/vllm", tag: "rocm6.4.1_vllm_0.10.1" });
    expect(modelSpec.requestGPUType).toBe("amd.com/gpu");
    expect(modelSpec.runtimeClassName).toBe("");
    expect(modelSpec.env).toEqual([{ name: "VLLM_ROCM_USE_AITER", value: "1" }]);
  });

  it("splits a registry with a port from the tag", () => {
    expect(values(customImage).modelSpec).toMatchObject({
      repository: "registry.example.com:5000/team/vllm-custom",
      tag: "2025-06",
    });
  });

  it("runs a multi-node plan as the chart's RayCluster: a head and nodes - 1 workers", () => {
    const { modelSpec } = values(multiNode2x8);
    expect(modelSpec.replicaCount).toBe(1);
    expect(modelSpec.requestGPU).toBe(8);
    expect(modelSpec.raySpec).toEqual({
      enabled: true,
      headNode: { requestCPU: 32, requestMemory: "128Gi", requestGPU: 8 },
    });
    expect(modelSpec.vllmConfig).toMatchObject({ tensorParallelSize: 8, pipelineParallelSize: 2 });
    expect(modelSpec.vllmConfig.extraArgs).toBeUndefined();
  });

  it("refuses engines other than vLLM, and a model the chart's Ray script would rewrite", () => {
    for (const [d, pattern] of [
      [sglangTp2, /runs vLLM only/],
      [{ ...multiNode2x8, serveArgv: hostileName.serveArgv }, /Ray start script/],
    ] as const) {
      expect(() => renderHelmValues(d)).toThrow(ServepilotError);
      expect(() => renderHelmValues(d)).toThrow(pattern);
    }
  });
});
