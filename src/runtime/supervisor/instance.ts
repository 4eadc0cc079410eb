/**
 * An instance: an engine servepilot started, as persisted under `<dataDir>/instances/<name>.json`
 * so that `status`, `stop` and `logs` (and the studio) work across invocations.
 */
import { z } from "zod";

export const INSTANCE_ENGINES = ["vllm", "sglang", "llamacpp", "embedded"] as const;
export type InstanceEngine = (typeof INSTANCE_ENGINES)[number];

/** DESIGN.md "Instance": starting, ready, failed, stopping, stopped. */
export const INSTANCE_STATUSES = ["starting", "ready", "failed", "stopping", "stopped"] as const;
export type InstanceStatus = (typeof INSTANCE_STATUSES)[number];

const nullableNumber = z.number().nullable();

const ActualsSchema = z.object({
  engineVersion: z.string().nullable(),
  weightsGiB: nullableNumber,
  weightsSeconds: nullableNumber,
  availableKvGiB: nullableNumber,
  kvCacheTokens: nullableNumber,
  gpuBlocks: nullableNumber,
  maxConcurrency: nullableNumber,
  maxConcurrencyTokensPerRequest: nullableNumber,
  cudaGraphGiB: nullableNumber,
});

/** What the planner predicted for this launch (per GPU rank, GiB), to compare with the engine's log. */
const PlannedSchema = z.object({
  weightsGiB: nullableNumber,
  kvCacheGiB: nullableNumber,
  kvCacheTokens: nullableNumber,
  maxConcurrency: nullableNumber,
  maxModelLen: nullableNumber,
});

const ComparisonSchema = z.object({
  metric: z.string(),
  planned: z.number(),
  actual: z.number(),
  /** (actual - planned) / actual x 100. */
  errorPercent: z.number(),
});

const FailureSchema = z.object({
  /** A FailureCause from the engine log, or "exited", "timeout", "spawn-failed", "not-ready". */
  cause: z.string(),
  message: z.string(),
  /** Concrete next steps (from the planner where it can compute them). */
  fixes: z.array(z.string()),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
});

export const InstanceRecordSchema = z.object({
  version: z.literal(1),
  name: z.string(),
  model: z.string(),
  servedModelName: z.string(),
  engine: z.enum(INSTANCE_ENGINES),
  engineVersion: z.string().nullable(),
  /** The recipe's id, "generated" for the planner's configuration, "embedded" for the embedded engine. */
  recipeId: z.string(),
  precision: z.string().nullable(),
  mode: z.enum(["process", "docker"]),
  pid: z.number().int().nullable(),
  pgid: z.number().int().nullable(),
  /** /proc start time of `pid` (pid-reuse protection). */
  startTicks: z.string().nullable(),
  /** /proc command line of `pid` once it ran (pid-reuse protection). */
  processCommandLine: z.array(z.string()),
  containerId: z.string().nullable(),
  containerName: z.string().nullable(),
  /** docker mode: the `docker logs -f` process that copies the container's output to the log file. */
  logFollowerPid: z.number().int().nullable(),
  /** The argv that was started (program first). */
  argv: z.array(z.string()),
  /** Environment servepilot set for the engine (GPU selection, the recipe's env); never secrets. */
  env: z.record(z.string(), z.string()),
  host: z.string(),
  port: z.number().int(),
  endpoint: z.string(),
  gpus: z.array(z.object({ index: z.number().int(), uuid: z.string().nullable(), name: z.string() })),
  logFile: z.string(),
  status: z.enum(INSTANCE_STATUSES),
  phase: z.string(),
  createdAt: z.string(),
  readyAt: z.string().nullable(),
  stoppedAt: z.string().nullable(),
  failure: FailureSchema.nullable(),
  planned: PlannedSchema.nullable(),
  actual: ActualsSchema,
  planVsActual: z.array(ComparisonSchema),
});

export type InstanceRecord = z.infer<typeof InstanceRecordSchema>;
export type InstanceFailure = z.infer<typeof FailureSchema>;
export type PlannedFiguresRecord = z.infer<typeof PlannedSchema>;
export type PlanComparison = z.infer<typeof ComparisonSchema>;

/** Instance names: a lowercase slug (also used for file names and container names). */
export const INSTANCE_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

/** Whether the record says the engine should be running (it may have died since). */
export function isActiveStatus(status: InstanceStatus): boolean {
  return status === "starting" || status === "ready" || status === "stopping";
}
