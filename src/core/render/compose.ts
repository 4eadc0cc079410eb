import type { Deployment } from "./deployment.js";
import { assertSingleNode, CONTAINER_HF_CACHE, containerEnv, resolveContainerCommand } from "./docker-run.js";
import { escapeComposeInterpolation, renderYamlDocuments } from "./yaml-text.js";

/**
 * A Compose file (current Compose Specification: no `version:` key) running the engine as one
 * service. The command is a YAML list, so no shell reads it; every `$` is doubled because Compose
 * interpolates variables in all strings. HF_TOKEN is listed without a value: Compose takes it from
 * the environment of `docker compose up`, and the file holds no secret.
 */
export function renderCompose(d: Deployment): string {
  assertSingleNode(d, "docker compose");
  const command = resolveContainerCommand(d);
  const service: Record<string, unknown> = { image: d.image };
  if (command.entrypoint) service.entrypoint = command.entrypoint;
  service.command = command.args;
  service.ports = [`${d.port}:${d.port}`];
  service.volumes = [
    `${d.hfCacheHostPath}:${CONTAINER_HF_CACHE}`,
    ...command.hostPaths.map((path) => `${path}:${path}:ro`),
  ];
  service.environment = [
    "HF_TOKEN",
    ...Object.entries(containerEnv(d)).map(([key, value]) => `${key}=${value}`),
  ];
  service.ipc = "host";
  service.shm_size = d.shmSize;
  if (d.vendor === "nvidia") {
    const selection = d.deviceIds.length > 0 ? { device_ids: d.deviceIds } : { count: d.gpusPerReplica };
    service.deploy = {
      resources: { reservations: { devices: [{ driver: "nvidia", ...selection, capabilities: ["gpu"] }] } },
    };
  } else {
    // ROCm in containers: /dev/kfd (compute) and /dev/dri (render nodes), the video group, and
    // seccomp unconfined (rocm.docs.amd.com, "Running ROCm Docker containers").
    service.devices = ["/dev/kfd", "/dev/dri"];
    service.group_add = ["video"];
    service.security_opt = ["seccomp=unconfined"];
  }
  // curl is in all three engine images (vLLM and SGLang install it, llama.cpp's server image uses it for
  // its own HEALTHCHECK); /health answers 200 once the model is loaded.
  service.healthcheck = {
    test: ["CMD", "curl", "-fsS", `http://localhost:${d.port}/health`],
    interval: "30s",
    timeout: "10s",
    retries: 3,
    start_period: `${Math.max(1, Math.ceil(d.startupSeconds))}s`,
  };
  service.restart = "unless-stopped";
  const header = [
    `servepilot: ${d.modelId} with ${d.engine} ${d.engineVersion} on ${d.gpusPerReplica} ${d.vendor.toUpperCase()} GPU(s)`,
    "Start: HF_TOKEN=<token for gated models> docker compose up -d",
  ];
  return renderYamlDocuments([escapeStrings({ services: { [d.name]: service } })], header);
}

function escapeStrings(value: unknown): unknown {
  if (typeof value === "string") return escapeComposeInterpolation(value);
  if (Array.isArray(value)) return value.map(escapeStrings);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeStrings(item)]));
  }
  return value;
}
