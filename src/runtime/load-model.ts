import type { ModelDescription } from "../core/model/describe-model.js";
import { describeModel } from "../core/model/describe-model.js";
import { ggufTensorBytes, ggufToConfig } from "../core/model/gguf-config.js";
import { loadModelCatalog, type ModelCatalogRecord } from "./catalog/model-catalog.js";
import { resolveModel } from "./models/resolve-model.js";
import type { RawModel } from "./models/types.js";

export interface LoadModelOptions {
  dataDir?: string | null;
  env?: NodeJS.ProcessEnv;
  revision?: string;
  offline?: boolean;
  timeoutMs?: number;
}

export interface LoadedModel {
  ref: string;
  id: string;
  origin: RawModel["origin"];
  attempts: RawModel["attempts"];
  catalogEntry: ModelCatalogRecord | null;
  description: ModelDescription;
  /** GGUF tensor list when the model is a GGUF file (llama.cpp plans split layers exactly). */
  ggufTensors: Array<{ name: string; shape: number[]; ggmlType: string }> | null;
}

/**
 * Finds a model (local directory, HF cache, Hub, built-in catalog, in that order) and describes it:
 * architecture, parameters by component, KV bytes per token, quantization.
 */
export async function loadModel(ref: string, options: LoadModelOptions = {}): Promise<LoadedModel> {
  const catalog = await loadModelCatalog({ dataDir: options.dataDir ?? null });
  const raw = await resolveModel(ref, {
    ...(options.env ? { env: options.env } : {}),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.offline ? { offline: true } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    catalogLookup: (id: string) => catalog.find(id),
  });
  const catalogEntry = catalog.find(raw.id) ?? catalog.find(ref) ?? null;
  const config = raw.config ?? (raw.gguf ? ggufToConfig(raw.gguf) : null);
  const label =
    raw.origin.kind === "catalog" && catalogEntry
      ? `${catalogEntry.origin.file}: ${raw.id}`
      : describeSource(raw);
  const description = describeModel({
    config,
    label,
    tensors:
      raw.safetensors?.tensors ??
      raw.gguf?.tensors.map((tensor) => ({
        name: tensor.name,
        dtype: tensor.ggmlType,
        shape: tensor.shape,
      })) ??
      null,
    tensorSource: raw.safetensors ? "safetensors" : "gguf",
    weightBytes: raw.gguf && !raw.safetensors ? ggufTensorBytes(raw.gguf.tensors) : null,
    publishedParams: catalogEntry?.publishedParams ?? null,
  });
  return {
    ref,
    id: raw.id,
    origin: raw.origin,
    attempts: raw.attempts,
    catalogEntry,
    description,
    ggufTensors: raw.gguf?.tensors ?? null,
  };
}

/** How messages name the config a model was read from. */
function describeSource(raw: RawModel): string {
  if (raw.origin.kind === "catalog") return `catalog entry ${raw.id}`;
  const where = raw.origin.kind === "hub" ? `${raw.id} on the Hugging Face Hub` : raw.origin.location;
  if (raw.config === null && raw.gguf) return `${where} (GGUF metadata)`;
  return raw.origin.location.endsWith(".json") ? raw.origin.location : `${where}/config.json`;
}
