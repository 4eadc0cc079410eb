import { ServepilotError } from "../errors.js";
import type { Deployment } from "./deployment.js";
import { CONTAINER_HF_CACHE, flagValue, resolveContainerCommand } from "./docker-run.js";
import {
  assertDnsLabel,
  gpuNodeSelector,
  gpuResources,
  healthProbes,
  kubernetesEnv,
  kubernetesHeader,
  objectLabels,
  resolveQuantity,
  selectorLabels,
  shmVolume,
} from "./kubernetes.js";
import { renderCommandLine, shellQuote } from "./shell-quote.js";
import { escapeKubernetesExpansion, renderYamlDocuments } from "./yaml-text.js";

const RAY_PORT = 6379;
const ROLE_LABEL = "servepilot/role";

/**
 * A LeaderWorkerSet (leaderworkerset.x-k8s.io/v1, kubernetes-sigs/lws) running vLLM over Ray across
 * `d.nodes` pods: the leader starts the Ray head, waits until every node has joined, then runs
 * `vllm serve` with the Ray executor; each worker joins the head at $(LWS_LEADER_ADDRESS), which LWS
 * puts in every pod of the group. Each pod gets its own model cache claim (volumeClaimTemplates,
 * LWS >= v0.8.0). A Service sends traffic to the leaders.
 */
export function renderMultiNode(d: Deployment): string {
  assertRayDeployment(d);
  assertDnsLabel(d.name);
  const command = resolveContainerCommand(d);
  const serveArgv = rayServeArgv(d, command.argv);
  const leaderLabels = { ...objectLabels(d), [ROLE_LABEL]: "leader" };
  const workerLabels = { ...objectLabels(d), [ROLE_LABEL]: "worker" };
  const mounts = [
    { name: "model-cache", mountPath: CONTAINER_HF_CACHE },
    { name: "dshm", mountPath: "/dev/shm" },
  ];
  const container = (name: string, script: string) => ({
    name,
    image: d.image,
    imagePullPolicy: "IfNotPresent",
    command: ["/bin/sh", "-c", script],
    env: kubernetesEnv(d),
    resources: gpuResources(d, d.gpusPerNode),
    volumeMounts: mounts,
  });
  const leaderScript = escapeKubernetesExpansion(
    [
      "set -e",
      `ray start --head --port=${RAY_PORT}`,
      `until python3 -c ${shellQuote(rayNodesReadyCheck(d.nodes))} >/dev/null 2>&1; do`,
      `  echo ${shellQuote(`waiting for ${d.nodes} Ray nodes`)}; sleep 5`,
      "done",
      `exec ${renderCommandLine(serveArgv)}`,
    ].join("\n"),
  );
  // Kubernetes expands $(LWS_LEADER_ADDRESS) from the pod's environment; the loop covers a worker
  // that starts before the leader's Ray head listens (a failed container would restart the group).
  const workerScript = `until ray start --address=$(LWS_LEADER_ADDRESS):${RAY_PORT} --block; do sleep 5; done`;
  const podSpec = (containers: unknown[]) => ({
    ...gpuNodeSelector(d),
    containers,
    volumes: [shmVolume(d)],
  });
  const leaderWorkerSet = {
    apiVersion: "leaderworkerset.x-k8s.io/v1",
    kind: "LeaderWorkerSet",
    metadata: { name: d.name, labels: objectLabels(d) },
    spec: {
      replicas: 1,
      // LeaderReady would wait for a leader that only becomes ready once the workers have joined.
      startupPolicy: "LeaderCreated",
      leaderWorkerTemplate: {
        size: d.nodes,
        restartPolicy: "RecreateGroupOnPodRestart",
        leaderTemplate: {
          metadata: { labels: leaderLabels },
          spec: podSpec([
            {
              ...container("vllm-leader", leaderScript),
              ports: [
                { name: "http", containerPort: d.port, protocol: "TCP" },
                { name: "ray", containerPort: RAY_PORT, protocol: "TCP" },
              ],
              ...healthProbes(d),
            },
          ]),
        },
        workerTemplate: {
          metadata: { labels: workerLabels },
          spec: podSpec([container("vllm-worker", workerScript)]),
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "model-cache" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: resolveQuantity(d.cacheSize, "cacheSize") } },
            },
          },
        ],
      },
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: d.name, labels: objectLabels(d) },
    spec: {
      type: "ClusterIP",
      selector: { ...selectorLabels(d), [ROLE_LABEL]: "leader" },
      ports: [{ name: "http", port: d.port, targetPort: "http", protocol: "TCP" }],
    },
  };
  const header = [
    ...kubernetesHeader(d, command.hostPaths),
    `${d.nodes} pods x ${d.gpusPerNode} GPUs; needs the LeaderWorkerSet controller >= v0.8.0 (kubernetes-sigs/lws)`,
  ];
  return renderYamlDocuments([leaderWorkerSet, service], header);
}

/**
 * The same deployment on bare-metal nodes, as a POSIX shell script run once per node with its role:
 * `head` (first, on the head node), `worker HEAD_IP` (on each other node), then `serve` on the head
 * node once `ray status` lists every node. The engine's environment is exported before `ray start`,
 * since Ray's worker processes inherit the environment of their node's `ray start`.
 */
export function renderRayCommands(d: Deployment): string {
  assertRayDeployment(d);
  const argv = [...d.serveArgv];
  if (flagValue(argv, "--port") === undefined) argv.push("--port", String(d.port));
  const serveArgv = rayServeArgv(d, argv);
  const usage = `usage: $0 head | worker HEAD_IP | serve`;
  const lines = [
    `# servepilot: ${oneLine(d.modelId)} with vLLM ${oneLine(d.engineVersion)} over Ray on ${d.nodes} nodes x ${d.gpusPerNode} GPUs`,
    `# (tensor parallel ${d.tensorParallelSize}, pipeline parallel ${d.pipelineParallelSize}). Every node needs the same vLLM`,
    "# version, the model at the same path (or in its HF cache), network reach to the others, and HF_TOKEN",
    "# exported for gated models. Run, in this order:",
    "#   head            on the head node",
    `#   worker HEAD_IP  on each of the other ${d.nodes - 1} node(s)`,
    `#   serve           on the head node, once \`ray status\` lists ${d.nodes} nodes`,
    ...Object.entries(d.env).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    'case "${1:-}" in',
    `  head) ray start --head --port=${RAY_PORT} ;;`,
    `  worker) ray start --address="\${2:?${usage}}:${RAY_PORT}" ;;`,
    `  serve) exec ${renderCommandLine(serveArgv)} ;;`,
    `  *) echo "${usage}" >&2; exit 2 ;;`,
    "esac",
  ];
  return `${lines.join("\n")}\n`;
}

/** Python that exits 0 once at least `nodes` Ray nodes are alive in the local cluster. */
function rayNodesReadyCheck(nodes: number): string {
  return `import sys, ray; ray.init(address="auto"); sys.exit(0 if sum(n["Alive"] for n in ray.nodes()) >= ${nodes} else 1)`;
}

/** vLLM, over at least two nodes, with a parallel layout that fills every GPU of every node. */
function assertRayDeployment(d: Deployment): void {
  if (d.engine !== "vllm") {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `multi-node deployment runs vLLM over Ray; engine ${d.engine} is not supported there`,
      { hint: "choose --engine vllm, or a GPU count that fits on one node" },
    );
  }
  if (!Number.isInteger(d.nodes) || d.nodes < 2) {
    throw new ServepilotError("INVALID_ARGUMENT", `deployment.nodes must be 2 or more here, got ${d.nodes}`);
  }
  if (d.tensorParallelSize * d.pipelineParallelSize !== d.nodes * d.gpusPerNode) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment: tensorParallelSize x pipelineParallelSize (${d.tensorParallelSize} x ${d.pipelineParallelSize}) must equal nodes x gpusPerNode (${d.nodes} x ${d.gpusPerNode})`,
    );
  }
}

/** `vllm serve` argv with the parallel layout of `d` and the Ray executor. */
function rayServeArgv(d: Deployment, argv: readonly string[]): string[] {
  let result = withFlag(argv, "--tensor-parallel-size", String(d.tensorParallelSize));
  result = withFlag(result, "--pipeline-parallel-size", String(d.pipelineParallelSize));
  return withFlag(result, "--distributed-executor-backend", "ray");
}

/** `argv` with `flag` set to `value`: replaced where present (`--flag v` or `--flag=v`), else appended. */
function withFlag(argv: readonly string[], flag: string, value: string): string[] {
  const result = [...argv];
  const index = result.findIndex((arg) => arg === flag || arg.startsWith(`${flag}=`));
  if (index < 0) return [...result, flag, value];
  if (result[index] === flag) result[index + 1] = value;
  else result[index] = `${flag}=${value}`;
  return result;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ");
}
