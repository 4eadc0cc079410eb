import type { EngineSpec } from "../../core/engines/engine-spec.js";
import type { LlamaCppSpec } from "../../core/engines/llamacpp-spec.js";
import type { SglangSpec } from "../../core/engines/sglang-spec.js";
import type { VllmSpec } from "../../core/engines/vllm-spec.js";
import type { Efficiency } from "../../core/perf/efficiency.js";
import { loadCatalogEntries } from "./load-entries.js";

export interface EngineCatalog {
  entries: EngineSpec[];
  vllm: VllmSpec[];
  sglang: SglangSpec[];
  llamacpp: LlamaCppSpec[];
  efficiency: Efficiency[];
}

/** Engine release data (data/engines/*.yaml); user files in `<dataDir>/engines/` override by id. */
export async function loadEngineCatalog(options: { dataDir?: string | null } = {}): Promise<EngineCatalog> {
  const { entries } = await loadCatalogEntries(
    "engines",
    async () => (await import("../../core/engines/engine-spec.js")).EngineSpecSchema,
    options.dataDir ? `${options.dataDir}/engines` : null,
  );
  return {
    entries,
    vllm: entries.filter((entry): entry is VllmSpec & typeof entry => entry.engine === "vllm"),
    sglang: entries.filter((entry): entry is SglangSpec & typeof entry => entry.engine === "sglang"),
    llamacpp: entries.filter((entry): entry is LlamaCppSpec & typeof entry => entry.engine === "llamacpp"),
    efficiency: entries.filter((entry): entry is Efficiency & typeof entry => entry.engine === "perf"),
  };
}
