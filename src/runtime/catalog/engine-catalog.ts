import type { EngineSpec } from "../../core/engines/engine-spec.js";
import type { VllmSpec } from "../../core/engines/vllm-spec.js";
import { loadCatalogEntries } from "./load-entries.js";

export interface EngineCatalog {
  entries: EngineSpec[];
  vllm: VllmSpec[];
}

/** Engine release data (data/engines/*.yaml); user files in `<dataDir>/engines/` override by id. */
export async function loadEngineCatalog(options: { dataDir?: string | null } = {}): Promise<EngineCatalog> {
  const { entries } = await loadCatalogEntries(
    "engines",
    async () => (await import("../../core/engines/engine-spec.js")).EngineSpecSchema,
    options.dataDir ? `${options.dataDir}/engines` : null,
  );
  return { entries, vllm: entries.filter((entry): entry is VllmSpec & typeof entry => entry.engine === "vllm") };
}
