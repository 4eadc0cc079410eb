import { join } from "node:path";
import type { GpuCatalogEntry } from "../../core/gpu/gpu-spec.js";
import { loadCatalogEntries } from "./load-entries.js";

/** Built-in GPUs (data/gpus/) with the user's `<dataDir>/gpus/*.yaml` merged over them by id. */
export async function loadGpuCatalog(options: { dataDir?: string | null } = {}): Promise<GpuCatalogEntry[]> {
  const { entries } = await loadCatalogEntries(
    "gpus",
    async () => (await import("../../core/gpu/gpu-spec.js")).GpuSpecSchema,
    options.dataDir ? join(options.dataDir, "gpus") : null,
  );
  return entries;
}
