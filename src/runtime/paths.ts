import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package's own data/ directory (built-in catalogs), next to src/ and dist/. */
export const BUILTIN_DATA_DIR = fileURLToPath(new URL("../../data/", import.meta.url));

/**
 * The built-in catalogs compiled by `npm run build` (dist/data/catalog.json, next to dist/runtime/).
 * Absent when running from src/ — the loader then parses the YAML.
 */
export const COMPILED_CATALOG_FILE = fileURLToPath(new URL("../data/catalog.json", import.meta.url));

/**
 * servepilot's data directory: `--data-dir`, else $SERVEPILOT_HOME, else ~/.servepilot
 * (DESIGN.md "Surfaces"). Holds user catalogs (gpus/, models/), instance state, logs, the database.
 */
export function resolveDataDir(
  options: { flag?: string | undefined; env?: NodeJS.ProcessEnv; home?: string } = {},
): string {
  const env = options.env ?? process.env;
  if (options.flag) return resolve(options.flag);
  if (env.SERVEPILOT_HOME) return resolve(env.SERVEPILOT_HOME);
  return join(options.home ?? homedir(), ".servepilot");
}
