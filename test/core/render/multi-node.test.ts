import { describe, expect, it } from "vitest";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { renderMultiNode, renderRayCommands } from "../../../src/core/render/multi-node.js";
import { HOSTILE_MODEL, multiNode2x8, nvidiaOneGpu } from "./deployment-cases.js";
import { expandKubernetes } from "./interpolation.js";
import { type KubernetesType, schemaErrors, typeErrors } from "./kubernetes-schemas.js";
import { type Manifest, parseManifests } from "./parse-manifests.js";
import { runShell } from "./run-shell.js";
import { ajvLws as ajv, validateLeaderWorkerSet } from "./validators.js";

const amdMultiNode: Deployment = {
  ...multiNode2x8,
  vendor: "amd",
  image: "rocm/vllm:rocm6.4.1_vllm_0.10.1",
  gpuProductLabel: "AMD_Instinct_MI300X_OAM",
  env: { VLLM_ROCM_USE_AITER: "1", HIP_VISIBLE_DEVICES: "0,1,2,3,4,5,6,7" },
};

const hostileMultiNode: Deployment = {
  ...multiNode2x8,
  modelId: HOSTILE_MODEL,
  serveArgv: ["vllm", "serve", HOSTILE_MODEL, "--max-model-len", "4096"],
};

function render(d: Deployment): { lws: Manifest; service: Manifest } {
  const [lws, service, ...rest] = parseManifests(renderMultiNode(d)) as Manifest[];
  expect(rest).toEqual([]);
  return { lws: lws as Manifest, service: service as Manifest };
}

function podContainer(lws: Manifest, role: "leaderTemplate" | "workerTemplate"): Manifest {
  return lws.spec.leaderWorkerTemplate[role].spec.containers[0];
}

/** What the pod's shell runs: the container command after Kubernetes' $(VAR) expansion. */
function runContainer(c: Manifest, vars: Record<string, string>) {
  const [shell, flag, script] = (c.command as string[]).map((part) => expandKubernetes(part, vars));
  expect([shell, flag]).toEqual(["/bin/sh", "-c"]);
  return runShell(script as string);
}

const POD_VARS = {
  HF_TOKEN: "hf_secret",
  HF_HOME: "/root/.cache/huggingface",
  LWS_LEADER_ADDRESS: "deepseek-v3-0.deepseek-v3",
};

describe("renderMultiNode", () => {
  it("writes a LeaderWorkerSet that validates against its CRD schema, with Kubernetes pod templates", () => {
    const literals: { type: KubernetesType; value: unknown }[] = [];
    for (const d of [multiNode2x8, amdMultiNode, hostileMultiNode]) {
      const { lws, service } = render(d);
      expect(validateLeaderWorkerSet(lws) ? [] : ajv.errorsText(validateLeaderWorkerSet.errors)).toEqual([]);
      const group = lws.spec.leaderWorkerTemplate;
      for (const template of [group.leaderTemplate, group.workerTemplate]) {
        expect(schemaErrors("PodTemplateSpec", template)).toEqual([]);
        literals.push({ type: "PodTemplateSpec", value: template });
      }
      for (const claim of group.volumeClaimTemplates) {
        const asObject = { apiVersion: "v1", kind: "PersistentVolumeClaim", ...claim };
        expect(schemaErrors("PersistentVolumeClaim", asObject)).toEqual([]);
        literals.push({ type: "PersistentVolumeClaim", value: asObject });
      }
      expect(schemaErrors("Service", service)).toEqual([]);
      literals.push({ type: "Service", value: service });
    }
    expect(typeErrors(literals)).toEqual([]);
  });

  it("has a CRD schema check that refuses a field the API server would prune", () => {
    const { lws } = render(multiNode2x8);
    lws.spec.leaderWorkerTemplate.workers = 1;
    expect(validateLeaderWorkerSet(lws)).toBe(false);
  });

  it("sizes the group to the nodes and gives every pod a node's GPUs, shared memory and model cache", () => {
    const { lws } = render(multiNode2x8);
    const group = lws.spec.leaderWorkerTemplate;
    expect(group.size).toBe(2);
    for (const role of ["leaderTemplate", "workerTemplate"] as const) {
      const c = podContainer(lws, role);
      expect(c.resources).toEqual({ limits: { "nvidia.com/gpu": 8 } });
      expect(c.volumeMounts).toEqual([
        { name: "model-cache", mountPath: "/root/.cache/huggingface" },
        { name: "dshm", mountPath: "/dev/shm" },
      ]);
      expect(group[role].spec.volumes).toEqual([
        { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "32Gi" } },
      ]);
      expect(group[role].spec.nodeSelector).toEqual({ "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" });
    }
    expect(group.volumeClaimTemplates[0]).toEqual({
      metadata: { name: "model-cache" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "900Gi" } } },
    });
  });

  it("starts the Ray head, waits for the workers, then serves with the Ray executor on the leader", () => {
    const run = runContainer(podContainer(render(multiNode2x8).lws, "leaderTemplate"), POD_VARS);
    expect(run.status).toBe(0);
    expect(run.calls.map((call) => call[0])).toEqual(["ray", "python3", "vllm"]);
    expect(run.calls[0]).toEqual(["ray", "start", "--head", "--port=6379"]);
    expect(run.calls[1]?.[2]).toMatch(/ray\.nodes\(\).*>= 2/);
    expect(run.calls[2]).toEqual([...multiNode2x8.serveArgv, "--distributed-executor-backend", "ray"]);
  });

  it("joins each worker to the leader's Ray head at the address LWS gives it", () => {
    const c = podContainer(render(multiNode2x8).lws, "workerTemplate");
    expect(c.command[2]).toContain("$(LWS_LEADER_ADDRESS)");
    const run = runContainer(c, POD_VARS);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([["ray", "start", "--address=deepseek-v3-0.deepseek-v3:6379", "--block"]]);
    expect(c.readinessProbe).toBeUndefined();
  });

  it("passes a hostile model name through Kubernetes expansion and the leader's shell unchanged", () => {
    const run = runContainer(podContainer(render(hostileMultiNode).lws, "leaderTemplate"), POD_VARS);
    const serve = run.calls.find((call) => call[0] === "vllm") as string[];
    expect(serve.slice(1, 3)).toEqual(["serve", HOSTILE_MODEL]);
    expect(serve.slice(-6)).toEqual([
      "--tensor-parallel-size",
      "8",
      "--pipeline-parallel-size",
      "2",
      "--distributed-executor-backend",
      "ray",
    ]);
  });

  it("probes /health on the leader and sends the Service to leaders only", () => {
    const { lws, service } = render(multiNode2x8);
    const leader = podContainer(lws, "leaderTemplate");
    expect(leader.startupProbe.httpGet).toEqual({ path: "/health", port: "http" });
    expect(leader.startupProbe.failureThreshold * leader.startupProbe.periodSeconds).toBeGreaterThanOrEqual(
      3600,
    );
    const group = lws.spec.leaderWorkerTemplate;
    expect(group.leaderTemplate.metadata.labels).toMatchObject(service.spec.selector);
    expect(group.workerTemplate.metadata.labels).not.toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }]);
  });

  it("uses amd.com/gpu and leaves host device selection out of AMD pods", () => {
    const c = podContainer(render(amdMultiNode).lws, "workerTemplate");
    expect(c.resources).toEqual({ limits: { "amd.com/gpu": 8 } });
    expect((c.env as Manifest[]).map((e) => e.name)).toEqual(["HF_HOME", "HF_TOKEN", "VLLM_ROCM_USE_AITER"]);
  });

  it("refuses a one-node deployment, a non-vLLM engine and a layout that does not fill the nodes", () => {
    expect(() => renderMultiNode(nvidiaOneGpu)).toThrow(/nodes must be 2 or more/);
    expect(() => renderMultiNode({ ...multiNode2x8, engine: "sglang" })).toThrow(/vLLM over Ray/);
    expect(() => renderMultiNode({ ...multiNode2x8, pipelineParallelSize: 1 })).toThrow(
      /must equal nodes x gpusPerNode/,
    );
  });
});

describe("renderRayCommands", () => {
  const script = renderRayCommands(amdMultiNode);

  it("starts the Ray head on the head node", () => {
    const run = runShell(script, { args: ["head"] });
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([["ray", "start", "--head", "--port=6379"]]);
  });

  it("joins a worker node to the head's address", () => {
    const run = runShell(script, { args: ["worker", "10.0.0.5"] });
    expect(run.calls).toEqual([["ray", "start", "--address=10.0.0.5:6379"]]);
    const missing = runShell(script, { args: ["worker"] });
    expect(missing.status).not.toBe(0);
    expect(missing.calls).toEqual([]);
  });

  it("serves with the planned layout and the Ray executor, after exporting the engine's environment", () => {
    const run = runShell(script, { args: ["serve"] });
    expect(run.calls).toEqual([[...amdMultiNode.serveArgv, "--distributed-executor-backend", "ray"]]);
    expect(script).toContain("export VLLM_ROCM_USE_AITER=1\n");
  });

  it("keeps a hostile model name intact", () => {
    const run = runShell(renderRayCommands(hostileMultiNode), { args: ["serve"] });
    expect(run.calls[0]?.slice(0, 3)).toEqual(["vllm", "serve", HOSTILE_MODEL]);
  });

  it("prints its usage and fails without a role", () => {
    const run = runShell(script);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/usage: .* head \| worker HEAD_IP \| serve/);
    expect(run.calls).toEqual([]);
  });
});
