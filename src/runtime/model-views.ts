/**
 * The data objects of `inspect` and `models`, shared by the CLI (`--json`) and the studio's API so
 * that both report a model the same way.
 */
import { describeModel, type ModelDescription } from "../core/model/describe-model.js";
import { loadModelCatalog, type ModelCatalogRecord } from "./catalog/model-catalog.js";
import type { LoadedModel } from "./load-model.js";

/** `inspect`'s data object. */
export function inspectData(loaded: LoadedModel) {
  const d = loaded.description;
  return {
    model: { id: loaded.id, ref: loaded.ref, origin: loaded.origin, attempts: loaded.attempts },
    architecture: d.architecture,
    layerSummary: d.layerSummary,
    params: d.params,
    kvCache: d.kvCache,
    quantization: d.architecture.quantization,
    weightBytes: d.weightBytes,
    warnings: d.warnings,
  };
}

export interface CatalogModelView {
  entry: ModelCatalogRecord;
  description: ModelDescription;
}

/** Catalog models whose id, family or an alias contains `filter` (case-insensitive), described. */
export async function catalogModelViews(options: {
  dataDir: string | null;
  filter?: string | undefined;
}): Promise<CatalogModelView[]> {
  const catalog = await loadModelCatalog({ dataDir: options.dataDir });
  const needle = options.filter?.toLowerCase();
  return catalog.entries
    .filter(
      (entry) =>
        !needle ||
        entry.id.toLowerCase().includes(needle) ||
        entry.family.toLowerCase().includes(needle) ||
        entry.aliases.some((alias) => alias.toLowerCase().includes(needle)),
    )
    .map((entry) => ({
      entry,
      description: describeModel({
        config: entry.config,
        label: `${entry.origin.file}: ${entry.id}`,
        publishedParams: entry.publishedParams,
      }),
    }));
}

/** `models`' data object for the views. */
export function catalogModelsData(views: CatalogModelView[]) {
  return {
    count: views.length,
    models: views.map(({ entry, description: d }) => ({
      id: entry.id,
      family: entry.family,
      aliases: entry.aliases,
      modelType: d.architecture.modelType,
      params: { total: d.params.total, active: d.params.active, published: entry.publishedParams },
      quantization: d.architecture.quantization?.scheme ?? null,
      maxContext: d.architecture.maxContext,
      gated: entry.gated,
      source: entry.source,
      origin: entry.origin,
    })),
  };
}
