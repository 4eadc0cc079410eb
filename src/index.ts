/**
 * servepilot as a library: model knowledge, the GPU catalog and detection, typed and importable.
 * The CLI is a thin layer over these same functions.
 */

export type { LlamaCppSpec } from "./core/engines/llamacpp-spec.js";
export type { SglangSpec } from "./core/engines/sglang-spec.js";
export type { VllmSpec } from "./core/engines/vllm-spec.js";
export { ERROR_CODES, type ErrorCode, ExitCode, isServepilotError, ServepilotError } from "./core/errors.js";
export * from "./core/gpu/index.js";
export { planLlamaCppMemory } from "./core/memory/llamacpp.js";
export { planSglangMemory } from "./core/memory/sglang.js";
export type {
  EngineFailure,
  EngineName,
  GpuMemoryTarget,
  KvCapacity,
  MemoryPlan,
  RankMemory,
  ResolvedEngineArgs,
} from "./core/memory/types.js";
export { estimateActivationBytes, planVllmMemory, vllmKvLayout } from "./core/memory/vllm.js";
export { resolveVllmArgs, type VllmUserArgs } from "./core/memory/vllm-args.js";
export { estimateRankWeights, paddedVocab } from "./core/memory/vllm-weights.js";
export * from "./core/model/index.js";
export { buildPlan, type EngineSpecs, type PlanInputs } from "./core/plan/build-plan.js";
export { type FitRow, fitAcrossCatalog } from "./core/plan/fit.js";
export { chooseSettings, findFixes, recommend } from "./core/plan/recommend.js";
export type { Plan, Recommendation, UserEngineSettings, Workload } from "./core/plan/types.js";
export { loadEngineCatalog } from "./runtime/catalog/engine-catalog.js";
export {
  loadGpuCatalog,
  loadModelCatalog,
  type ModelCatalog,
  type ModelCatalogRecord,
} from "./runtime/catalog/index.js";
export { type DetectionReport, detectAndMatch, type MatchedGpu } from "./runtime/detect-and-match.js";
export { type FitRequest, type FitResult, fit } from "./runtime/fit.js";
export { detectGpus } from "./runtime/hardware/index.js";
export type { DetectedGpu, DetectGpusOptions, GpuDetection } from "./runtime/hardware/types.js";
export { type LoadedModel, type LoadModelOptions, loadModel } from "./runtime/load-model.js";
export { resolveModel } from "./runtime/models/index.js";
export type { RawModel, ResolveModelOptions } from "./runtime/models/types.js";
export { resolveDataDir } from "./runtime/paths.js";
export { type PlanOptions, type PlanRequest, plan } from "./runtime/plan.js";
export { loadProfile, profileToRequest } from "./runtime/profile.js";
