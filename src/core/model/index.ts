export type * from "./architecture.js";
export {
  type ModelCatalogEntry,
  type ModelCatalogEntryInput,
  ModelCatalogEntrySchema,
} from "./catalog-entry.js";
export { attentionLayerParams, countParams, type ParamComponents, type ParamCount } from "./count-params.js";
export { type DescribeModelInput, describeModel, type ModelDescription } from "./describe-model.js";
export { type KvBytesPerToken, kvBytesPerToken } from "./kv-cache.js";
export { type ParseConfigOptions, type ParsedModel, parseConfig } from "./parse-config.js";
export { parseQuantization } from "./quantization.js";
export { countTensorParams, type TensorInfo, type TensorParamCount } from "./tensor-params.js";
export { dtypeBytes, estimateWeightBytes } from "./weight-bytes.js";
