export { chooseGgufFile, type GgufChoice } from "./choose-gguf-file.js";
export { readLocalGguf } from "./read-gguf.js";
export { readSafetensorsDir, readSafetensorsFile } from "./read-safetensors.js";
export { resolveModel } from "./resolve-model.js";
export { hfCacheFolderName } from "./source-hf-cache.js";
export { expandRefPath, isPathLike } from "./source-local.js";
export {
  DEFAULT_HUB_TIMEOUT_MS,
  DEFAULT_HUB_URL,
  type ModelSourceSettings,
  resolveSourceSettings,
} from "./source-settings.js";
export type {
  CatalogLookup,
  GgufOmittedValue,
  GgufSummary,
  GgufTensorSummary,
  RawModel,
  ResolveModelOptions,
  SafetensorsSummary,
  SafetensorsTensorInfo,
  SourceAttempt,
  SourceKind,
} from "./types.js";
