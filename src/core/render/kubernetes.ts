import { ServepilotError } from "../errors.js";
import type { Deployment } from "./deployment.js";
import { assertSingleNode, CONTAINER_HF_CACHE, resolveContainerCommand } from "./docker-run.js";
import { escapeKubernetesExpansion, renderYamlDocuments } from "./yaml-text.js";

/** The Secret the manifests read HF_TOKEN from; servepilot never writes its value. */
export const HF_TOKEN_SECRET = { name: "hf-token", key: "token" } as const;

const PROBE_PERIOD_SECONDS = 10;

/**
 * Kubernetes manifests for one replica on one node: a PersistentVolumeClaim for the model cache, a
 * Deployment and a Service. The engine argv is the container's `args` (no shell); `$` is doubled
 * because Kubernetes expands `$(VAR)` there. HF_TOKEN comes from the optional Secret `hf-token`.
 */
export function renderKubernetes(d: Deployment): string {
  assertSingleNode(d, "the Kubernetes Deployment");
  assertDnsLabel(d.name);
  const command = resolveContainerCommand(d);
  const labels = objectLabels(d);
  const claimName = `${d.name}-model-cache`;
  const pvc = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName, labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: resolveQuantity(d.cacheSize, "cacheSize") } },
    },
  };
  const container: Record<string, unknown> = {
    name: d.engine,
    image: d.image,
    imagePullPolicy: "IfNotPresent",
  };
  if (command.entrypoint) container.command = command.entrypoint.map(escapeKubernetesExpansion);
  container.args = command.args.map(escapeKubernetesExpansion);
  Object.assign(container, {
    ports: [{ name: "http", containerPort: d.port, protocol: "TCP" }],
    env: kubernetesEnv(d),
    resources: gpuResources(d, d.gpusPerReplica),
    volumeMounts: [
      { name: "model-cache", mountPath: CONTAINER_HF_CACHE },
      { name: "dshm", mountPath: "/dev/shm" },
    ],
    ...healthProbes(d),
  });
  const deployment = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: d.name, labels },
    spec: {
      replicas: 1,
      // A rolling update would need a second set of GPUs and a second mount of a ReadWriteOnce claim.
      strategy: { type: "Recreate" },
      selector: { matchLabels: selectorLabels(d) },
      template: {
        metadata: { labels },
        spec: {
          ...gpuNodeSelector(d),
          containers: [container],
          volumes: [{ name: "model-cache", persistentVolumeClaim: { claimName } }, shmVolume(d)],
        },
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: d.name, labels },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(d),
      ports: [{ name: "http", port: d.port, targetPort: "http", protocol: "TCP" }],
    },
  };
  return renderYamlDocuments([pvc, deployment, service], kubernetesHeader(d, command.hostPaths));
}

/** Comment lines above the manifests: what they run, the Secret to create, paths to provide. */
export function kubernetesHeader(d: Deployment, hostPaths: readonly string[]): string[] {
  return [
    `servepilot: ${d.modelId} with ${d.engine} ${d.engineVersion}`,
    `HF token for gated models (optional): kubectl create secret generic ${HF_TOKEN_SECRET.name} --from-literal=${HF_TOKEN_SECRET.key}=<token>`,
    ...hostPaths.map(
      (path) => `The model is a local path: mount ${JSON.stringify(path)} into the pod at that path`,
    ),
  ];
}

export function selectorLabels(d: Deployment): Record<string, string> {
  return { "app.kubernetes.io/name": d.name };
}

export function objectLabels(d: Deployment): Record<string, string> {
  return {
    ...selectorLabels(d),
    "app.kubernetes.io/component": "inference-engine",
    "app.kubernetes.io/managed-by": "servepilot",
  };
}

/**
 * HF_HOME on the cache volume, HF_TOKEN from the optional Secret, then `d.env` less device selection
 * (the device plugin gives the container only the GPUs it allocated).
 */
export function kubernetesEnv(d: Deployment): Record<string, unknown>[] {
  return [
    { name: "HF_HOME", value: CONTAINER_HF_CACHE },
    {
      name: "HF_TOKEN",
      valueFrom: { secretKeyRef: { name: HF_TOKEN_SECRET.name, key: HF_TOKEN_SECRET.key, optional: true } },
    },
    ...Object.entries(podEnv(d)).map(([name, value]) => ({ name, value: escapeKubernetesExpansion(value) })),
  ];
}

const DEVICE_SELECTION = new Set(["CUDA_VISIBLE_DEVICES", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES"]);

/** `d.env` less device selection: host GPU indices mean nothing in a pod, which sees only its own GPUs. */
export function podEnv(d: Deployment): Record<string, string> {
  return Object.fromEntries(Object.entries(d.env).filter(([key]) => !DEVICE_SELECTION.has(key)));
}

/** GPUs as an extended resource (the device plugin picks them): limits only, requests default to them. */
export function gpuResources(d: Deployment, count: number): Record<string, unknown> {
  return { limits: { [d.vendor === "nvidia" ? "nvidia.com/gpu" : "amd.com/gpu"]: count } };
}

/**
 * Nodes with the planned GPU: NVIDIA GPU feature discovery labels `nvidia.com/gpu.product`; the AMD
 * node labeller labels `amd.com/gpu.product-name`. Omitted when the product label is unknown.
 */
export function gpuNodeSelector(d: Deployment): { nodeSelector?: Record<string, string> } {
  if (d.gpuProductLabel === null) return {};
  const key = d.vendor === "nvidia" ? "nvidia.com/gpu.product" : "amd.com/gpu.product-name";
  return { nodeSelector: { [key]: d.gpuProductLabel } };
}

/** /dev/shm for NCCL / RCCL and PyTorch worker processes: a memory-backed emptyDir of `shmSize`. */
export function shmVolume(d: Deployment): Record<string, unknown> {
  return {
    name: "dshm",
    emptyDir: { medium: "Memory", sizeLimit: dockerSizeToQuantity(d.shmSize, "shmSize") },
  };
}

/**
 * Startup, readiness and liveness on /health. The startup probe allows `startupSeconds` (weights
 * download, load and graph capture) before liveness takes over.
 */
export function healthProbes(d: Deployment): Record<string, unknown> {
  const httpGet = { path: "/health", port: "http" };
  return {
    startupProbe: {
      httpGet,
      periodSeconds: PROBE_PERIOD_SECONDS,
      timeoutSeconds: 5,
      failureThreshold: Math.max(1, Math.ceil(d.startupSeconds / PROBE_PERIOD_SECONDS)),
    },
    readinessProbe: { httpGet, periodSeconds: PROBE_PERIOD_SECONDS, timeoutSeconds: 5, failureThreshold: 3 },
    livenessProbe: { httpGet, periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 3 },
  };
}

const KUBERNETES_QUANTITY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
// docker's sizes (go-units RAMInBytes): binary multiples, an optional i and b ("16g", "16gb", "16GiB").
const DOCKER_SIZE = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/;

/** A Kubernetes quantity as given ("200Gi"), refused when Kubernetes would not read it. */
export function resolveQuantity(value: string, field: string): string {
  if (KUBERNETES_QUANTITY.test(value)) return value;
  throw new ServepilotError(
    "INVALID_ARGUMENT",
    `deployment.${field} must be a Kubernetes quantity like "200Gi", got ${JSON.stringify(value)}`,
  );
}

/** docker's size ("16g", binary multiples) as a Kubernetes quantity ("16Gi"). */
export function dockerSizeToQuantity(value: string, field: string): string {
  const match = DOCKER_SIZE.exec(value);
  if (!match) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.${field} must be a docker size like "16g" or "16GiB", got ${JSON.stringify(value)}`,
    );
  }
  const unit = match[2];
  return unit ? `${match[1]}${unit.toUpperCase()}i` : (match[1] as string);
}

/** Object names are DNS-1123 labels: lower-case alphanumerics and "-", at most 63 characters. */
export function assertDnsLabel(name: string): void {
  if (name.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.name must be a DNS-1123 label (lower-case letters, digits and "-", at most 63), got ${JSON.stringify(name)}`,
    );
  }
}
