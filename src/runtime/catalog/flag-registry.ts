import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type FlagRegistry, parseFlagRegistry } from "../../core/engines/flag-registry.js";
import type { EngineName } from "../../core/memory/types.js";
import { BUILTIN_DATA_DIR } from "../paths.js";

const cache = new Map<EngineName, Promise<FlagRegistry>>();

/** The built-in flag registry of an engine (data/engines/flags/<engine>.yaml), parsed once. */
export function loadFlagRegistry(engine: EngineName): Promise<FlagRegistry> {
  let registry = cache.get(engine);
  if (registry === undefined) {
    registry = (async () => {
      const file = join(BUILTIN_DATA_DIR, "engines", "flags", `${engine}.yaml`);
      const { parse } = await import("yaml");
      return parseFlagRegistry(parse(await readFile(file, "utf8")), file);
    })();
    cache.set(engine, registry);
  }
  return registry;
}
