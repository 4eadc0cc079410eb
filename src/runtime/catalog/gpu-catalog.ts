import { join } from "node:path";
import { type GpuCatalogEntry, GpuSpecSchema } from "../../core/gpu/gpu-spec.js";
import { BUILTIN_DATA_DIR } from "../paths.js";
import { loadCatalogEntries } from "./load-entries.js";

/** Built-in GPUs (data/gpus/) with the user's `<dataDir>/gpus/*.yaml` merged over them by id. */
export async function loadGpuCatalog(options: { dataDir?: string | null } = {}): Promise<GpuCatalogEntry[]> {
  const { entries } = await loadCatalogEntries(
    GpuSpecSchema,
    join(BUILTIN_DATA_DIR, "gpus"),
    options.dataDir ? join(options.dataDir, "gpus") : null,
  );
  return entries;
}
