/**
 * servepilot as a library: model knowledge, the GPU catalog and detection, typed and importable.
 * The CLI is a thin layer over these same functions.
 */
export { ERROR_CODES, type ErrorCode, ExitCode, isServepilotError, ServepilotError } from "./core/errors.js";
export * from "./core/gpu/index.js";
export * from "./core/model/index.js";
export {
  loadGpuCatalog,
  loadModelCatalog,
  type ModelCatalog,
  type ModelCatalogRecord,
} from "./runtime/catalog/index.js";
export { type DetectionReport, detectAndMatch, type MatchedGpu } from "./runtime/detect-and-match.js";
export { detectGpus } from "./runtime/hardware/index.js";
export type { DetectedGpu, DetectGpusOptions, GpuDetection } from "./runtime/hardware/types.js";
export { type LoadedModel, type LoadModelOptions, loadModel } from "./runtime/load-model.js";
export { resolveModel } from "./runtime/models/index.js";
export type { RawModel, ResolveModelOptions } from "./runtime/models/types.js";
export { resolveDataDir } from "./runtime/paths.js";
