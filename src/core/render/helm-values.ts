import { ServepilotError } from "../errors.js";
import type { Deployment } from "./deployment.js";
import { resolveContainerCommand } from "./docker-run.js";
import { dockerSizeToQuantity, HF_TOKEN_SECRET, podEnv, resolveQuantity } from "./kubernetes.js";
import { escapeKubernetesExpansion, renderYamlDocuments } from "./yaml-text.js";

/**
 * values.yaml for the vLLM production-stack Helm chart (github.com/vllm-project/production-stack,
 * helm/values.yaml and helm/templates/deployment-vllm-multi.yaml; ray-cluster.yaml when `d.nodes` > 1).
 * The chart writes `vllm serve <modelURL> --host 0.0.0.0 --port <containerPort>` itself, turns
 * `vllmConfig` keys into flags, appends `extraArgs`, mounts the PVC at /data and sets HF_HOME=/data.
 */
const CHART_DATA_PATH = "/data";

// The flags the chart writes from vllmConfig keys (deployment-vllm-multi.yaml), and their value types.
const VLLM_CONFIG_FLAGS: Record<string, { key: string; integer: boolean; text?: boolean }> = {
  "--tensor-parallel-size": { key: "tensorParallelSize", integer: true },
  "--max-model-len": { key: "maxModelLen", integer: true },
  "--gpu-memory-utilization": { key: "gpuMemoryUtilization", integer: false },
  "--max-num-seqs": { key: "maxNumSeqs", integer: true },
  "--dtype": { key: "dtype", integer: false, text: true },
};

/**
 * Host resources per GPU requested for the engine pod: the chart requires requestCPU and
 * requestMemory. No engine documents a figure; this covers the API server, tokenizer and one worker
 * process per GPU, like the chart's own example (6 CPUs, 16Gi for one GPU).
 */
const CPUS_PER_GPU = 4;
const MEMORY_GIB_PER_GPU = 16;

export function renderHelmValues(d: Deployment): string {
  if (d.engine !== "vllm") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `Helm values target the vLLM production-stack chart, which runs vLLM only; engine is ${d.engine}`,
      { hint: "use the Kubernetes manifests (renderKubernetes) for SGLang or llama.cpp" },
    );
  }
  const multiNode = d.nodes > 1;
  const command = resolveContainerCommand(d, CHART_DATA_PATH);
  const argv = command.argv;
  if (argv[0] !== "vllm" || argv[1] !== "serve") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.serveArgv must start with "vllm serve" for the production-stack chart, got ${JSON.stringify(argv.slice(0, 2))}`,
    );
  }
  const gpus = multiNode ? d.gpusPerNode : d.gpusPerReplica;
  // deployment-vllm-multi.yaml writes --host and --port; ray-cluster.yaml also the Ray executor, and
  // pipelineParallelSize from vllmConfig.
  const written = new Set(["--host", "--port"]);
  if (multiNode)
    for (const flag of ["--pipeline-parallel-size", "--distributed-executor-backend"]) written.add(flag);
  const { vllmConfig, extraArgs } = splitVllmFlags(argv.slice(3), written);
  // Always written: the chart mounts the /dev/shm volume only when vllmConfig has tensorParallelSize.
  vllmConfig.tensorParallelSize = d.tensorParallelSize;
  if (multiNode) vllmConfig.pipelineParallelSize = d.pipelineParallelSize;
  // The chart writes --no-enable-prefix-caching when this is false; vLLM's own default is on.
  vllmConfig.enablePrefixCaching = true;
  const modelURL = argv[2] as string;
  if (multiNode) assertRayScriptSafe(modelURL, extraArgs);
  const escapeValue = multiNode ? (text: string) => text : escapeKubernetesExpansion;
  if (extraArgs.length > 0) vllmConfig.extraArgs = extraArgs.map(escapeValue);
  const image = splitImage(d.image);
  const modelSpec: Record<string, unknown> = {
    name: d.name,
    repository: image.repository,
    tag: image.tag,
    modelURL: escapeValue(modelURL),
    replicaCount: multiNode ? d.nodes - 1 : 1,
    requestCPU: CPUS_PER_GPU * gpus,
    requestMemory: `${MEMORY_GIB_PER_GPU * gpus}Gi`,
    requestGPU: gpus,
  };
  if (d.vendor === "amd") {
    modelSpec.requestGPUType = "amd.com/gpu";
    modelSpec.runtimeClassName = ""; // the chart's default runtime class "nvidia" does not exist on AMD nodes
  }
  Object.assign(modelSpec, {
    pvcStorage: resolveQuantity(d.cacheSize, "cacheSize"),
    pvcAccessMode: ["ReadWriteOnce"],
    shmSize: dockerSizeToQuantity(d.shmSize, "shmSize"),
    vllmConfig,
    hf_token: { secretName: HF_TOKEN_SECRET.name, secretKey: HF_TOKEN_SECRET.key },
  });
  const env = Object.entries(podEnv(d)).map(([name, value]) => ({ name, value: escapeValue(value) }));
  if (env.length > 0) modelSpec.env = env;
  if (d.gpuProductLabel !== null) {
    const key = d.vendor === "nvidia" ? "nvidia.com/gpu.product" : "amd.com/gpu.product-name";
    modelSpec.nodeSelectorTerms = [
      { matchExpressions: [{ key, operator: "In", values: [d.gpuProductLabel] }] },
    ];
  }
  if (multiNode) {
    modelSpec.raySpec = {
      enabled: true,
      headNode: {
        requestCPU: CPUS_PER_GPU * gpus,
        requestMemory: `${MEMORY_GIB_PER_GPU * gpus}Gi`,
        requestGPU: gpus,
      },
    };
  }
  // chart.templateProbe (helm/templates/_helpers.tpl) reads these keys; initialDelaySeconds keeps its 15.
  const httpGet = { path: "/health", port: d.port };
  const values = {
    servingEngineSpec: {
      containerPort: d.port,
      startupProbe: {
        periodSeconds: 10,
        timeoutSeconds: 5,
        failureThreshold: Math.max(1, Math.ceil(d.startupSeconds / 10)),
        httpGet,
      },
      readinessProbe: { periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3, httpGet },
      livenessProbe: { periodSeconds: 20, timeoutSeconds: 10, failureThreshold: 3, httpGet },
      modelSpec: [modelSpec],
    },
  };
  const header = [
    `servepilot: ${d.modelId} with vLLM ${d.engineVersion}, values for the vLLM production-stack chart`,
    "helm repo add vllm https://vllm-project.github.io/production-stack",
    "helm install vllm vllm/vllm-stack -f values.yaml",
    `The chart reads HF_TOKEN from Secret ${HF_TOKEN_SECRET.name} (key ${HF_TOKEN_SECRET.key}): create it first.`,
    ...(multiNode ? [`${d.nodes} nodes run as a RayCluster: needs the KubeRay operator`] : []),
  ];
  return renderYamlDocuments([values], header);
}

/**
 * vLLM flags the chart has a vllmConfig key for, and the rest (kept in order) for extraArgs; the
 * flags in `written` (and their values) are left out because the chart writes them itself.
 */
function splitVllmFlags(
  flags: readonly string[],
  written: ReadonlySet<string>,
): { vllmConfig: Record<string, unknown>; extraArgs: string[] } {
  const vllmConfig: Record<string, unknown> = {};
  const extraArgs: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i] as string;
    const inline = arg.startsWith("--") && arg.includes("=");
    const [flag, value] = inline ? splitOnce(arg) : [arg, flags[i + 1]];
    const consumed = inline ? 0 : 1;
    if (written.has(flag)) {
      i += consumed;
      continue;
    }
    const mapped = VLLM_CONFIG_FLAGS[flag];
    const parsed = mapped && value !== undefined ? parseValue(value, mapped) : undefined;
    if (mapped && parsed !== undefined) {
      vllmConfig[mapped.key] = parsed;
      i += consumed;
      continue;
    }
    extraArgs.push(arg);
  }
  return { vllmConfig, extraArgs };
}

function parseValue(value: string, spec: { integer: boolean; text?: boolean }): string | number | undefined {
  if (spec.text) return value;
  const number = Number(value);
  if (!Number.isFinite(number) || (spec.integer && !Number.isInteger(number))) return undefined;
  return number;
}

function splitOnce(arg: string): [string, string] {
  const at = arg.indexOf("=");
  return [arg.slice(0, at), arg.slice(at + 1)];
}

/**
 * The chart's RayCluster start script writes modelURL into a bash array unquoted and extraArgs inside
 * double quotes (ray-cluster.yaml), so bash would split or expand them: refuse what it would change.
 */
function assertRayScriptSafe(modelURL: string, extraArgs: readonly string[]): void {
  if (!/^[A-Za-z0-9_./:=@%+,-]+$/.test(modelURL)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `the production-stack chart's Ray start script cannot pass the model ${JSON.stringify(modelURL)} unchanged (it is not quoted there)`,
      { hint: "use the LeaderWorkerSet manifest (renderMultiNode) for this model" },
    );
  }
  const unsafe = extraArgs.find((arg) => /[$`]/.test(arg));
  if (unsafe !== undefined) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `the production-stack chart's Ray start script would expand ${JSON.stringify(unsafe)} (bash double quotes)`,
      { hint: "use the LeaderWorkerSet manifest (renderMultiNode) for this model" },
    );
  }
}

/** `repository` and `tag` as the chart joins them ("<repository>:<tag>"); a digest stays on the tag. */
function splitImage(image: string): { repository: string; tag: string } {
  const [name, digest] = image.split("@") as [string, string | undefined];
  const colon = name.lastIndexOf(":");
  if (colon > name.lastIndexOf("/")) {
    const tag = name.slice(colon + 1) + (digest === undefined ? "" : `@${digest}`);
    return { repository: name.slice(0, colon), tag };
  }
  if (digest !== undefined) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.image ${JSON.stringify(image)} has a digest but no tag; the chart writes "<repository>:<tag>"`,
    );
  }
  return { repository: name, tag: "latest" };
}
