import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { type GpuCatalogEntry, GpuSpecSchema } from "../../../src/core/gpu/index.js";

/** data/gpus, the built-in GPU catalog. */
export const GPU_DATA_DIR = fileURLToPath(new URL("../../../data/gpus/", import.meta.url));

export function listGpuDataFiles(): string[] {
  return readdirSync(GPU_DATA_DIR)
    .filter((file) => file.endsWith(".yaml"))
    .sort();
}

/** The raw parsed YAML of one data file (a list of entries). */
export function readGpuDataFile(file: string): unknown {
  return parse(readFileSync(join(GPU_DATA_DIR, file), "utf8"));
}

/** Every built-in entry, validated, with its origin, in file order. */
export function loadBuiltinGpus(): GpuCatalogEntry[] {
  return listGpuDataFiles().flatMap((file) =>
    GpuSpecSchema.array()
      .parse(readGpuDataFile(file))
      .map((spec) => ({ ...spec, origin: { kind: "builtin" as const, file: `data/gpus/${file}` } })),
  );
}
