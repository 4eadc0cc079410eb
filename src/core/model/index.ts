export type * from "./architecture.js";
export { type ModelCatalogEntry, type ModelCatalogEntryInput, ModelCatalogEntrySchema } from "./catalog-entry.js";
export { type ParamComponents, type ParamCount, attentionLayerParams, countParams } from "./count-params.js";
export { type KvBytesPerToken, kvBytesPerToken } from "./kv-cache.js";
export { type ParseConfigOptions, type ParsedModel, parseConfig } from "./parse-config.js";
export { parseQuantization } from "./quantization.js";
export { countTensorParams, type TensorInfo, type TensorParamCount } from "./tensor-params.js";
export { type DescribeModelInput, describeModel, type ModelDescription } from "./describe-model.js";
export { dtypeBytes, estimateWeightBytes } from "./weight-bytes.js";
