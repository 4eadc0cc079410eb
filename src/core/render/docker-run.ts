import { ServepilotError } from "../errors.js";
import type { Deployment } from "./deployment.js";
import { shellQuote } from "./shell-quote.js";

/** Where containers see the Hugging Face cache (the engines' images run as root, HF_HOME unset). */
export const CONTAINER_HF_CACHE = "/root/.cache/huggingface";

/**
 * What an image runs before the arguments given to it. Known images only; for any other image the
 * renderers set the entrypoint themselves so the engine argv works whatever the image declares.
 */
const IMAGE_ENTRYPOINTS: readonly { repository: string; tagPrefix: string; standsFor: readonly string[] }[] =
  [
    // ENTRYPOINT ["vllm", "serve"]: vllm-project/vllm docker/Dockerfile, target vllm-openai
    { repository: "vllm/vllm-openai", tagPrefix: "", standsFor: ["vllm", "serve"] },
    // same target on ROCm: vllm-project/vllm docker/Dockerfile.rocm, target vllm-openai
    { repository: "vllm/vllm-openai-rocm", tagPrefix: "", standsFor: ["vllm", "serve"] },
    // ENTRYPOINT ["/app/llama-server"] in the server-* tags: ggml-org/llama.cpp .devops/cuda.Dockerfile
    { repository: "ghcr.io/ggml-org/llama.cpp", tagPrefix: "server", standsFor: ["llama-server"] },
  ];

/**
 * Images with no entrypoint of their own (or one that just runs its arguments), so the full argv goes
 * after the image: lmsysorg/sglang (SGLang docs run `python3 -m sglang.launch_server` after the image);
 * rocm/vllm (vllm-project/vllm docker/Dockerfile.rocm, target final: CMD ["/bin/bash"]).
 */
const IMAGES_WITHOUT_ENTRYPOINT: readonly string[] = ["lmsysorg/sglang", "rocm/vllm"];

export interface ContainerCommand {
  /** The whole argv after those changes, program first (for renderers that write their own script). */
  argv: string[];
  /** Replaces the image's entrypoint when set (images not in the tables above); null keeps the image's. */
  entrypoint: string[] | null;
  /** What follows the image: docker run arguments, compose `command`, Kubernetes `args`. */
  args: string[];
  /** Host paths (a local model outside the HF cache) the container must see at the same path. */
  hostPaths: string[];
}

/**
 * The engine argv as a container runs it: the part the image's entrypoint already stands for is
 * dropped, a local model under the HF cache is pointed at the cache's place inside the container,
 * and the server listens on all interfaces at `d.port` (SGLang binds 127.0.0.1 unless told).
 */
export function resolveContainerCommand(
  d: Deployment,
  cacheMountPath = CONTAINER_HF_CACHE,
): ContainerCommand {
  if (d.serveArgv.length === 0) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      "deployment.serveArgv is empty: expected the engine's argv",
    );
  }
  const argv = [...d.serveArgv];
  const hostPaths: string[] = [];
  const modelIndex = findModelIndex(argv, d);
  const model = argv[modelIndex] as string;
  if (model.startsWith("/")) {
    const cacheRoot = d.hfCacheHostPath.replace(/\/+$/, "");
    if (model === cacheRoot || model.startsWith(`${cacheRoot}/`)) {
      argv[modelIndex] = cacheMountPath + model.slice(cacheRoot.length);
    } else {
      hostPaths.push(model);
    }
  }
  if (d.engine !== "vllm" && flagValue(argv, "--host") === undefined) argv.push("--host", "0.0.0.0");
  const port = flagValue(argv, "--port");
  if (port === undefined) {
    argv.push("--port", String(d.port));
  } else if (port !== String(d.port)) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.serveArgv has --port ${port} but deployment.port is ${d.port}: expected the same port`,
    );
  }
  return { argv, ...splitEntrypoint(argv, d.image), hostPaths };
}

function findModelIndex(argv: readonly string[], d: Deployment): number {
  const flags = d.engine === "sglang" ? ["--model-path", "--model"] : ["-m", "--model"];
  const index =
    d.engine === "vllm" && argv[0] === "vllm" && argv[1] === "serve"
      ? 2
      : argv.findIndex((_arg, i) => i > 0 && flags.includes(argv[i - 1] as string));
  if (index < 0 || index >= argv.length) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `deployment.serveArgv names no model for ${d.engine}: expected ${d.engine === "vllm" ? "`vllm serve <model>`" : flags.join(" or ")}, got ${JSON.stringify(argv)}`,
    );
  }
  return index;
}

/** The value given to `flag` (`--flag value` or `--flag=value`), or undefined when absent. */
export function flagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === flag) return argv[i + 1];
    if (arg.startsWith(`${flag}=`)) return arg.slice(flag.length + 1);
  }
  return undefined;
}

function splitEntrypoint(argv: string[], image: string): Pick<ContainerCommand, "entrypoint" | "args"> {
  const { repository, tag } = parseImage(image);
  const known = IMAGE_ENTRYPOINTS.find((e) => e.repository === repository && tag.startsWith(e.tagPrefix));
  if (known?.standsFor.every((part, i) => argv[i] === part)) {
    return { entrypoint: null, args: argv.slice(known.standsFor.length) };
  }
  if (!known && IMAGES_WITHOUT_ENTRYPOINT.includes(repository)) return { entrypoint: null, args: argv };
  return { entrypoint: argv.slice(0, 1), args: argv.slice(1) };
}

/** Repository (without docker.io/ or library/) and tag of an image reference. */
function parseImage(image: string): { repository: string; tag: string } {
  const withoutDigest = image.split("@")[0] as string;
  const colon = withoutDigest.lastIndexOf(":");
  const hasTag = colon > withoutDigest.lastIndexOf("/");
  const repository = (hasTag ? withoutDigest.slice(0, colon) : withoutDigest).replace(/^docker\.io\//, "");
  return {
    repository: repository.replace(/^library\//, ""),
    tag: hasTag ? withoutDigest.slice(colon + 1) : "",
  };
}

/**
 * `docker run` for one node, as shell text. Every word is quoted for a POSIX shell; HF_TOKEN is passed
 * by name (`-e HF_TOKEN`), so docker copies it from the caller's environment and no secret is printed.
 */
export function renderDockerRun(d: Deployment): string {
  const lines = dockerRunGroups(d, { publishHost: null });
  return `${lines.map((words) => words.map(quoteWord).join(" ")).join(" \\\n  ")}\n`;
}

/**
 * `docker run` as an argv array (what the launcher executes). `publishHost` binds the published port
 * to one host address (127.0.0.1 by default for launches); null publishes on every interface.
 */
export function dockerRunArgv(d: Deployment, options: { publishHost: string | null }): string[] {
  return dockerRunGroups(d, options).flat();
}

function dockerRunGroups(d: Deployment, options: { publishHost: string | null }): string[][] {
  assertSingleNode(d, "docker run");
  const command = resolveContainerCommand(d);
  const lines: string[][] = [["docker", "run", "--rm", "-d", "--name", d.name]];
  if (d.vendor === "nvidia") {
    // The comma-separated list needs the inner double quotes: docker reads --gpus as CSV.
    const gpus = d.deviceIds.length > 0 ? `"device=${d.deviceIds.join(",")}"` : String(d.gpusPerReplica);
    lines.push(["--gpus", gpus], ["--ipc=host"]);
  } else {
    lines.push(
      ["--device=/dev/kfd", "--device=/dev/dri", "--group-add", "video"],
      ["--security-opt", "seccomp=unconfined"],
      ["--ipc=host", "--shm-size", d.shmSize],
    );
  }
  const publish = options.publishHost === null ? "" : `${options.publishHost}:`;
  lines.push(["-p", `${publish}${d.port}:${d.port}`]);
  lines.push(["-v", `${d.hfCacheHostPath}:${CONTAINER_HF_CACHE}`]);
  for (const path of command.hostPaths) lines.push(["-v", `${path}:${path}:ro`]);
  lines.push(["-e", "HF_TOKEN"]);
  for (const [key, value] of Object.entries(containerEnv(d))) lines.push(["-e", `${key}=${value}`]);
  if (command.entrypoint) lines.push(["--entrypoint", command.entrypoint.join(" ")]);
  lines.push([d.image]);
  lines.push(...groupFlags(command.args));
  return lines;
}

/** One container, one node: a plan spanning nodes has its own artifacts. */
export function assertSingleNode(d: Deployment, artifact: string): void {
  if (d.nodes > 1) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${artifact} runs on one node, but this deployment spans ${d.nodes} nodes (tensor parallel ${d.tensorParallelSize} x pipeline parallel ${d.pipelineParallelSize})`,
      { hint: "use the multi-node artifacts: the LeaderWorkerSet manifest or the Ray commands" },
    );
  }
}

/**
 * Environment for the engine container besides HF_TOKEN: `d.env`, plus HIP_VISIBLE_DEVICES on AMD
 * when the deployment names devices and `d.env` selects none (/dev/dri exposes every GPU).
 */
export function containerEnv(d: Deployment): Record<string, string> {
  const env = { ...d.env };
  const selects = ["HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "CUDA_VISIBLE_DEVICES"].some(
    (k) => k in env,
  );
  if (d.vendor === "amd" && d.deviceIds.length > 0 && !selects)
    env.HIP_VISIBLE_DEVICES = d.deviceIds.join(",");
  return env;
}

/** A host path starting with `~/` keeps its tilde outside the quotes so the shell expands it. */
function quoteWord(word: string): string {
  return word.startsWith("~/") ? `~/${shellQuote(word.slice(2))}` : shellQuote(word);
}

/** One line per option: a `-x`/`--xx` word and the value words after it. */
function groupFlags(args: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (const arg of args) {
    const last = groups.at(-1);
    if (last && !arg.startsWith("-")) last.push(arg);
    else groups.push([arg]);
  }
  return groups;
}
