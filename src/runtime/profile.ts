import { readFile } from "node:fs/promises";
import { ServepilotError } from "../core/errors.js";
import { type Profile, ProfileSchema } from "../core/plan/profile.js";
import type { PlanRequest } from "./plan.js";

/** Reads and validates a YAML profile; errors name the file and the field (exit 2). */
export async function loadProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ServepilotError(
      code === "EACCES" ? "PERMISSION_DENIED" : "INVALID_ARGUMENT",
      `--profile ${path}: cannot read (${code ?? "error"})`,
      {
        cause: error,
      },
    );
  }
  const { parse, YAMLParseError } = await import("yaml");
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (error) {
    const line = error instanceof YAMLParseError && error.linePos ? `:${error.linePos[0].line}` : "";
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${path}${line}: invalid YAML (${(error as Error).message.split("\n")[0]})`,
    );
  }
  const result = ProfileSchema.safeParse(doc);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join(".") || "(top level)";
    const extra =
      issue?.code === "unrecognized_keys" ? ` ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}` : "";
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${path}: ${field}: ${issue?.message ?? "invalid"}${extra}`,
      {
        details: { file: path, issues: result.error.issues },
      },
    );
  }
  return result.data;
}

/** A profile as a plan request (flags given on the command line are merged over it by the caller). */
export function profileToRequest(profile: Profile): PlanRequest {
  const { model, hardware, engine, workload, policy } = profile;
  const request: PlanRequest = { model: model.id };
  const set = <K extends keyof PlanRequest>(key: K, value: PlanRequest[K] | undefined) => {
    if (value !== undefined) request[key] = value;
  };
  set("revision", model.revision);
  set("dtype", model.dtype);
  set("quantization", model.quantization);
  set("kvCacheDtype", model.kvCacheDtype);
  set("maxModelLen", model.maxModelLen);
  set("gpu", hardware.gpu);
  set("gpus", hardware.gpus);
  set("gpuMemory", hardware.gpuMemory);
  set("nodes", hardware.nodes);
  set("gpusPerNode", hardware.gpusPerNode);
  set("tensorParallelSize", hardware.tensorParallelSize);
  set("pipelineParallelSize", hardware.pipelineParallelSize);
  set("engine", engine.name);
  set("engineVersion", engine.version);
  set("gpuMemoryUtilization", engine.gpuMemoryUtilization);
  set("maxNumSeqs", engine.maxNumSeqs);
  set("maxNumBatchedTokens", engine.maxNumBatchedTokens);
  set("blockSize", engine.blockSize);
  set("enforceEager", engine.enforceEager);
  set("promptTokens", workload.promptTokens);
  set("genTokens", workload.genTokens);
  set("concurrency", workload.concurrency);
  set("batchingMode", workload.batchingMode);
  set("headroomGb", policy.headroomGb);
  set("overheadGb", policy.overheadGb);
  set("interconnect", policy.interconnect);
  return request;
}

/** The profile that reproduces a plan request (what `generate` writes as profile.yaml). */
export function requestToProfile(request: PlanRequest): Profile {
  const pick = <T extends object>(entries: T) =>
    Object.fromEntries(Object.entries(entries).filter(([, value]) => value !== undefined)) as T;
  return {
    profileVersion: 1,
    model: pick({
      id: request.model,
      revision: request.revision,
      dtype: request.dtype,
      quantization: request.quantization,
      kvCacheDtype: request.kvCacheDtype,
      maxModelLen: request.maxModelLen,
    }),
    hardware: pick({
      gpu: request.gpu,
      gpus: request.gpus,
      gpuMemory: request.gpuMemory ?? (request.vramGb !== undefined ? `${request.vramGb}GB` : undefined),
      nodes: request.nodes,
      gpusPerNode: request.gpusPerNode,
      tensorParallelSize: request.tensorParallelSize,
      pipelineParallelSize: request.pipelineParallelSize,
    }),
    engine: pick({
      name: request.engine,
      version: request.engineVersion,
      gpuMemoryUtilization: request.gpuMemoryUtilization,
      maxNumSeqs: request.maxNumSeqs,
      maxNumBatchedTokens: request.maxNumBatchedTokens,
      blockSize: request.blockSize,
      enforceEager: request.enforceEager,
    }),
    workload: pick({
      promptTokens: request.promptTokens,
      genTokens: request.genTokens,
      concurrency: request.concurrency,
      batchingMode: request.batchingMode,
    }),
    policy: pick({
      headroomGb: request.headroomGb,
      overheadGb: request.overheadGb,
      interconnect: request.interconnect,
    }),
  };
}
