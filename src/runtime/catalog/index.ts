export { loadGpuCatalog } from "./gpu-catalog.js";
export {
  type EntryOrigin,
  type LoadedEntries,
  loadCatalogEntries,
  parseEntriesFile,
} from "./load-entries.js";
export { loadModelCatalog, type ModelCatalog, type ModelCatalogRecord } from "./model-catalog.js";
