/** data/engine-metrics.yaml: which Prometheus metric of each engine means what, validated once. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ServepilotError } from "../../core/errors.js";
import { type EngineMetricMaps, EngineMetricMapsSchema } from "../../core/metrics/engine-metrics.js";
import { BUILTIN_DATA_DIR } from "../paths.js";

export const ENGINE_METRICS_FILE = join(BUILTIN_DATA_DIR, "engine-metrics.yaml");

export function parseEngineMetricMaps(document: unknown, file: string): EngineMetricMaps {
  const parsed = EngineMetricMapsSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `${file}: ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  return parsed.data;
}

let cached: Promise<EngineMetricMaps> | null = null;

/** The built-in engine metric maps, read and validated once per process. */
export function loadEngineMetricMaps(file = ENGINE_METRICS_FILE): Promise<EngineMetricMaps> {
  if (file !== ENGINE_METRICS_FILE) return readMaps(file);
  cached ??= readMaps(file).catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}

async function readMaps(file: string): Promise<EngineMetricMaps> {
  const { parse } = await import("yaml");
  return parseEngineMetricMaps(parse(await readFile(file, "utf8")), file);
}
