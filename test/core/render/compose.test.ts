import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderCompose } from "../../../src/core/render/compose.js";
import type { Deployment } from "../../../src/core/render/deployment.js";
import { resolveContainerCommand } from "../../../src/core/render/docker-run.js";
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
import { interpolateCompose } from "./interpolation.js";
import { ajvCompose as ajv, validateCompose } from "./validators.js";

const SHELL_ENV = { HOME: "/home/tester", USER: "tester", HF_TOKEN: "hf_secret" };

interface ComposeService {
  image: string;
  entrypoint?: string[];
  command: string[];
  environment: string[];
  [key: string]: unknown;
}

function renderParsed(d: Deployment): { file: Record<string, unknown>; service: ComposeService } {
  const text = renderCompose(d);
  const file = parse(text, { version: "1.1" }) as Record<string, unknown>;
  expect(parse(text, { version: "1.2" })).toEqual(file);
  const services = file.services as Record<string, ComposeService>;
  return { file, service: services[d.name] as ComposeService };
}

describe("renderCompose", () => {
  it("writes a Compose file that validates against the compose-spec schema, for every single-node case", () => {
    for (const [name, d] of Object.entries(SINGLE_NODE_CASES)) {
      const { file } = renderParsed(d);
      const valid = validateCompose(file);
      expect(valid ? [] : ajv.errorsText(validateCompose.errors), name).toEqual([]);
      expect(Object.keys(file), name).toEqual(["services"]);
    }
  });

  it("has a schema check that refuses what Compose refuses", () => {
    const { file, service } = renderParsed(nvidiaOneGpu);
    service.gpu_count = 1;
    expect(validateCompose(file)).toBe(false);
  });

  it("keeps the engine argv as a list that reaches the container unchanged after interpolation", () => {
    for (const [name, d] of Object.entries(SINGLE_NODE_CASES)) {
      const { service } = renderParsed(d);
      const expected = resolveContainerCommand(d);
      expect(
        service.command.map((arg) => interpolateCompose(arg, SHELL_ENV)),
        name,
      ).toEqual(expected.args);
      expect(service.entrypoint, name).toEqual(expected.entrypoint ?? undefined);
      expect(service.image, name).toBe(d.image);
    }
  });

  it("survives a hostile model name and environment value", () => {
    const { service } = renderParsed(hostileName);
    expect(interpolateCompose(service.command[0] as string, SHELL_ENV)).toBe(HOSTILE_MODEL);
    const note = service.environment.find((entry) => entry.startsWith("EXTRA_NOTE="));
    expect(interpolateCompose(note as string, SHELL_ENV)).toBe(`EXTRA_NOTE=${HOSTILE_NOTE}`);
  });

  it("takes HF_TOKEN from the environment without writing a value", () => {
    for (const d of Object.values(SINGLE_NODE_CASES)) {
      const { service } = renderParsed(d);
      expect(service.environment).toContain("HF_TOKEN");
      expect(service.environment.filter((entry) => entry.startsWith("HF_TOKEN="))).toEqual([]);
    }
  });

  it("reserves the NVIDIA GPUs by id, with host IPC, shared memory and a /health check", () => {
    const { service } = renderParsed(nvidiaTp8);
    expect(service.deploy).toEqual({
      resources: {
        reservations: {
          devices: [{ driver: "nvidia", device_ids: nvidiaTp8.deviceIds, capabilities: ["gpu"] }],
        },
      },
    });
    expect(service.ipc).toBe("host");
    expect(service.shm_size).toBe("16g");
    expect(service.ports).toEqual(["8000:8000"]);
    expect(service.volumes).toEqual(["/data/hf-cache:/root/.cache/huggingface"]);
    expect(service.healthcheck).toMatchObject({
      test: ["CMD", "curl", "-fsS", "http://localhost:8000/health"],
      start_period: "1200s",
    });
  });

  it("gives AMD services the ROCm devices, video group and seccomp instead of a GPU reservation", () => {
    const { service } = renderParsed(amdMi300x);
    expect(service.deploy).toBeUndefined();
    expect(service.devices).toEqual(["/dev/kfd", "/dev/dri"]);
    expect(service.group_add).toEqual(["video"]);
    expect(service.security_opt).toEqual(["seccomp=unconfined"]);
    expect(service.environment).toEqual([
      "HF_TOKEN",
      "VLLM_ROCM_USE_AITER=1",
      "HIP_VISIBLE_DEVICES=0,1,2,3,4,5,6,7",
    ]);
  });

  it("mounts a local GGUF read-only and health-checks llama.cpp on its port", () => {
    const { service } = renderParsed(llamaCppLocalGguf);
    expect(service.volumes).toContain("/models/Qwen3-8B-Q4_K_M.gguf:/models/Qwen3-8B-Q4_K_M.gguf:ro");
    expect((service.healthcheck as { test: string[] }).test).toContain("http://localhost:8080/health");
  });

  it("refuses a deployment spanning nodes", () => {
    expect(() => renderCompose(multiNode2x8)).toThrow(/spans 2 nodes/);
  });
});
