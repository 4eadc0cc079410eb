import { describe, expect, it } from "vitest";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { resolveContainerCommand } from "../../../src/core/render/docker-run.js";
import { renderKubernetes } from "../../../src/core/render/kubernetes.js";
import {
  amdMi300x,
  HOSTILE_MODEL,
  HOSTILE_NOTE,
  hostileName,
  llamaCppLocalGguf,
  multiNode2x8,
  nvidiaOneGpu,
  nvidiaTp8,
  SINGLE_NODE_CASES,
} from "./deployment-cases.js";
import { expandKubernetes } from "./interpolation.js";
import { type KubernetesType, schemaErrors, typeErrors } from "./kubernetes-schemas.js";
import { type Manifest, parseManifests } from "./parse-manifests.js";

function manifests(d: Deployment): {
  pvc: Manifest;
  deployment: Manifest;
  service: Manifest;
  all: Manifest[];
} {
  const all = parseManifests(renderKubernetes(d));
  expect(all.map((o) => o.kind)).toEqual(["PersistentVolumeClaim", "Deployment", "Service"]);
  const [pvc, deployment, service] = all as [Manifest, Manifest, Manifest];
  return { pvc, deployment, service, all };
}

function container(deployment: Manifest): Manifest {
  return deployment.spec.template.spec.containers[0];
}

/** The container's environment as Kubernetes sees it when expanding $(VAR) (values only; refs as a marker). */
function envVars(c: Manifest): Record<string, string> {
  return Object.fromEntries((c.env as Manifest[]).map((e) => [e.name, e.value ?? "<from secret>"]));
}

describe("renderKubernetes", () => {
  it("writes a PVC, a Deployment and a Service that validate against the Kubernetes schemas", () => {
    const literals: { type: KubernetesType; value: unknown }[] = [];
    for (const [name, d] of Object.entries(SINGLE_NODE_CASES)) {
      for (const object of manifests(d).all) {
        const type = object.kind as KubernetesType;
        expect(schemaErrors(type, object), `${name} ${type}`).toEqual([]);
        literals.push({ type, value: object });
      }
    }
    // unknown fields (which the OpenAPI schema lets through) fail as excess properties of the API types
    expect(typeErrors(literals)).toEqual([]);
  });

  it("has schema checks that catch a wrong type and an unknown field", () => {
    const { deployment } = manifests(nvidiaOneGpu);
    const broken = structuredClone(deployment);
    container(broken).ports[0].containerPort = "8000";
    expect(schemaErrors("Deployment", broken)).not.toEqual([]);
    const misspelled = structuredClone(deployment);
    container(misspelled).startupprobe = container(misspelled).startupProbe;
    expect(typeErrors([{ type: "Deployment", value: misspelled }]).join("\n")).toMatch(/startupprobe/);
  });

  it("gives the engine argv as container args that reach the process unchanged", () => {
    for (const [name, d] of Object.entries(SINGLE_NODE_CASES)) {
      const c = container(manifests(d).deployment);
      const expected = resolveContainerCommand(d);
      const vars = envVars(c);
      expect(
        (c.args as string[]).map((arg) => expandKubernetes(arg, vars)),
        name,
      ).toEqual(expected.args);
      expect(c.command, name).toEqual(expected.entrypoint ?? undefined);
    }
  });

  it("keeps $(HF_TOKEN) and $HOME in a hostile model name from being expanded", () => {
    const c = container(manifests(hostileName).deployment);
    expect(envVars(c)).toHaveProperty("HF_TOKEN");
    expect(expandKubernetes(c.args[0], { ...envVars(c), HF_TOKEN: "hf_secret" })).toBe(HOSTILE_MODEL);
    const note = (c.env as Manifest[]).find((e) => e.name === "EXTRA_NOTE") as Manifest;
    expect(expandKubernetes(note.value, { HF_TOKEN: "hf_secret", HOME: "/root" })).toBe(HOSTILE_NOTE);
  });

  it("reads HF_TOKEN from the optional hf-token Secret and never writes one", () => {
    const { all, deployment } = manifests(nvidiaOneGpu);
    expect(all.some((o) => o.kind === "Secret")).toBe(false);
    const token = (container(deployment).env as Manifest[]).find((e) => e.name === "HF_TOKEN");
    expect(token).toEqual({
      name: "HF_TOKEN",
      valueFrom: { secretKeyRef: { name: "hf-token", key: "token", optional: true } },
    });
  });

  it("keeps the model cache on the claim that HF_HOME points at", () => {
    const { pvc, deployment } = manifests(nvidiaTp8);
    expect(pvc.spec.resources.requests.storage).toBe("190Gi");
    const c = container(deployment);
    const cacheMount = (c.volumeMounts as Manifest[]).find((m) => m.name === "model-cache") as Manifest;
    expect(envVars(c).HF_HOME).toBe(cacheMount.mountPath);
    const cacheVolume = (deployment.spec.template.spec.volumes as Manifest[]).find(
      (v) => v.name === "model-cache",
    );
    expect(cacheVolume?.persistentVolumeClaim.claimName).toBe(pvc.metadata.name);
  });

  it("probes /health, with a startup probe that allows the whole cold start", () => {
    for (const d of [nvidiaOneGpu, nvidiaTp8, llamaCppLocalGguf]) {
      const c = container(manifests(d).deployment);
      expect(c.ports).toEqual([{ name: "http", containerPort: d.port, protocol: "TCP" }]);
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        expect(c[probe].httpGet).toEqual({ path: "/health", port: "http" });
      }
      expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBeGreaterThanOrEqual(
        d.startupSeconds,
      );
    }
  });

  it("asks for the GPUs, a memory-backed /dev/shm and the planned GPU model on NVIDIA", () => {
    const { deployment } = manifests(nvidiaTp8);
    const spec = deployment.spec.template.spec;
    expect(container(deployment).resources).toEqual({ limits: { "nvidia.com/gpu": 8 } });
    expect(spec.volumes).toContainEqual({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "16Gi" } });
    expect(container(deployment).volumeMounts).toContainEqual({ name: "dshm", mountPath: "/dev/shm" });
    expect(spec.nodeSelector).toEqual({ "nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3" });
  });

  it("uses amd.com/gpu and the AMD product label, without host device selection, on AMD", () => {
    const { deployment } = manifests(amdMi300x);
    const c = container(deployment);
    expect(c.resources).toEqual({ limits: { "amd.com/gpu": 8 } });
    expect(deployment.spec.template.spec.nodeSelector).toEqual({
      "amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM",
    });
    expect(Object.keys(envVars(c))).toEqual(["HF_HOME", "HF_TOKEN", "VLLM_ROCM_USE_AITER"]);
  });

  it("selects no node when the GPU product label is unknown", () => {
    expect(manifests(llamaCppLocalGguf).deployment.spec.template.spec.nodeSelector).toBeUndefined();
  });

  it("routes the Service to the Deployment's pods on the engine port", () => {
    const { deployment, service } = manifests(nvidiaOneGpu);
    expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }]);
    expect(deployment.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("refuses a multi-node deployment, a name Kubernetes refuses and a cache size it cannot read", () => {
    expect(() => renderKubernetes(multiNode2x8)).toThrow(/spans 2 nodes/);
    expect(() => renderKubernetes({ ...nvidiaOneGpu, name: "Qwen3_8B" })).toThrow(/DNS-1123/);
    expect(() => renderKubernetes({ ...nvidiaOneGpu, cacheSize: "30 gigs" })).toThrow(/cacheSize/);
    expect(() => renderKubernetes({ ...nvidiaOneGpu, shmSize: "lots" })).toThrow(/shmSize/);
  });
});
