// Compiles the built-in catalogs (data/gpus/*.yaml, data/models/*.yaml) into dist/data/catalog.json
// after `tsc`: every entry validated with the same schemas and loader the CLI uses, plus a hash of
// each source file so the runtime can tell a stale compilation from a fresh one. Run by `npm run build`.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const { parseEntriesFile, hashSource } = await import(join(root, "dist/runtime/catalog/load-entries.js"));
const { GpuSpecSchema } = await import(join(root, "dist/core/gpu/gpu-spec.js"));
const { ModelCatalogEntrySchema } = await import(join(root, "dist/core/model/catalog-entry.js"));
const { EngineSpecSchema } = await import(join(root, "dist/core/engines/engine-spec.js"));
const { COMPILED_CATALOG_FILE, BUILTIN_DATA_DIR } = await import(join(root, "dist/runtime/paths.js"));

const compiled = { sources: {}, gpus: [], models: [], engines: [] };
for (const [kind, schema] of [
  ["gpus", GpuSpecSchema],
  ["models", ModelCatalogEntrySchema],
  ["engines", EngineSpecSchema],
]) {
  const dir = join(BUILTIN_DATA_DIR, kind);
  for (const name of readdirSync(dir)
    .filter((n) => /\.ya?ml$/i.test(n))
    .sort()) {
    const path = join(dir, name);
    const text = readFileSync(path, "utf8");
    const file = relative(BUILTIN_DATA_DIR, path);
    compiled.sources[file] = hashSource(text);
    for (const entry of await parseEntriesFile(path, text, schema)) {
      compiled[kind].push({ ...entry, origin: { kind: "builtin", file } });
    }
  }
}
mkdirSync(dirname(COMPILED_CATALOG_FILE), { recursive: true });
writeFileSync(COMPILED_CATALOG_FILE, JSON.stringify(compiled));
console.log(
  `compiled ${compiled.gpus.length} GPUs, ${compiled.models.length} models and ${compiled.engines.length} engine releases into ${relative(root, COMPILED_CATALOG_FILE)}`,
);
