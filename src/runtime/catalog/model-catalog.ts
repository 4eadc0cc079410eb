import { join } from "node:path";
import type { ModelCatalogEntry } from "../../core/model/catalog-entry.js";
import { type EntryOrigin, loadCatalogEntries } from "./load-entries.js";

export type ModelCatalogRecord = ModelCatalogEntry & { origin: EntryOrigin };

export interface ModelCatalog {
  entries: ModelCatalogRecord[];
  /** By repo id or alias, case-insensitive. */
  find(ref: string): ModelCatalogRecord | undefined;
}

/** Built-in models (data/models/) with the user's `<dataDir>/models/*.yaml` merged over them by id. */
export async function loadModelCatalog(options: { dataDir?: string | null } = {}): Promise<ModelCatalog> {
  const { entries } = await loadCatalogEntries(
    "models",
    async () => (await import("../../core/model/catalog-entry.js")).ModelCatalogEntrySchema,
    options.dataDir ? join(options.dataDir, "models") : null,
  );
  const index = new Map<string, ModelCatalogRecord>();
  for (const entry of entries) {
    index.set(entry.id.toLowerCase(), entry);
    for (const alias of entry.aliases)
      if (!index.has(alias.toLowerCase())) index.set(alias.toLowerCase(), entry);
  }
  return { entries, find: (ref) => index.get(ref.trim().toLowerCase()) };
}
