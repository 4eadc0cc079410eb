import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { z } from "zod";
import { ServepilotError } from "../../core/errors.js";
import { BUILTIN_DATA_DIR, COMPILED_CATALOG_FILE } from "../paths.js";

export interface EntryOrigin {
  kind: "builtin" | "user";
  file: string;
}

export type CatalogKind = "gpus" | "models" | "engines";

export interface LoadedEntries<T> {
  entries: Array<T & { origin: EntryOrigin }>;
  /** Files read, in order (built-ins first). */
  files: string[];
}

export interface SourceFile {
  path: string;
  text: string;
}

/**
 * The built-in catalogs compiled at build time (scripts/compile-data.mjs): entries already
 * validated, keyed by a hash of each source file so an edited YAML file is never shadowed by a stale
 * compilation. Parsing YAML costs hundreds of milliseconds on a cold start; JSON.parse a few.
 */
export interface CompiledCatalog {
  sources: Record<string, string>;
  gpus: unknown[];
  models: unknown[];
  engines: unknown[];
}

/**
 * The YAML files of a catalog directory, sorted. A missing directory is an empty list unless
 * `required`; `unreadable` words the error for other failures (default: a data-file error).
 */
export async function listYamlFiles(
  dir: string,
  required: boolean,
  unreadable: (code: string | undefined, error: unknown) => ServepilotError = (code, error) =>
    new ServepilotError("INVALID_DATA_FILE", `${dir}: cannot read catalog directory (${code ?? "error"})`, {
      cause: error,
    }),
): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names
      .filter((name) => /\.ya?ml$/i.test(name))
      .sort()
      .map((name) => join(dir, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return [];
    if (code === "EACCES" || code === "EPERM") {
      throw new ServepilotError(
        "PERMISSION_DENIED",
        `${dir}: cannot read the directory (permission denied)`,
        {
          cause: error,
        },
      );
    }
    throw unreadable(code, error);
  }
}

/** Reads catalog files; an unreadable one is named with its error code. */
export async function readSources(files: readonly string[]): Promise<SourceFile[]> {
  return Promise.all(
    files.map(async (path) => {
      try {
        return { path, text: await readFile(path, "utf8") };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new ServepilotError(
          code === "EACCES" ? "PERMISSION_DENIED" : "INVALID_DATA_FILE",
          `${path}: cannot read (${code ?? "error"})`,
          { cause: error },
        );
      }
    }),
  );
}

export function hashSource(text: string): string {
  return createHash("sha1").update(text).digest("hex");
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
    .join("")
    .replace(/^\./, "");
}

/** Parses one YAML file that holds a list of entries, validating each with `schema`. */
export async function parseEntriesFile<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): Promise<Array<z.output<S>>> {
  const { parse: parseYaml, YAMLParseError } = await import("yaml");
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? `:${error.linePos[0].line}` : "";
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ServepilotError("INVALID_DATA_FILE", `${file}${where}: invalid YAML (${reason})`, {
      cause: error,
    });
  }
  if (doc === null || doc === undefined) return [];
  const list = Array.isArray(doc) ? doc : [doc];
  return list.map((item, index) => {
    const result = schema.safeParse(item);
    if (result.success) return result.data;
    const id =
      typeof item === "object" && item !== null && "id" in item
        ? ` (id ${JSON.stringify((item as { id: unknown }).id)})`
        : "";
    const issue = result.error.issues[0];
    const field = issue ? formatIssuePath(issue.path) : "";
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `${file}: entry ${index + 1}${id}${field ? `, field ${field}` : ""}: ${issue?.message ?? "invalid entry"}`,
      { details: { file, entry: index, field, issues: result.error.issues } },
    );
  });
}

async function parseSources<S extends z.ZodType>(
  sources: SourceFile[],
  schema: S,
  kind: EntryOrigin["kind"],
): Promise<Array<z.output<S> & { origin: EntryOrigin }>> {
  const perFile = await Promise.all(
    sources.map(async ({ path, text }) =>
      (await parseEntriesFile(path, text, schema)).map(
        (entry) =>
          ({ ...(entry as object), origin: { kind, file: path } }) as z.output<S> & { origin: EntryOrigin },
      ),
    ),
  );
  return perFile.flat();
}

async function readCompiled(): Promise<CompiledCatalog | null> {
  try {
    return JSON.parse(await readFile(COMPILED_CATALOG_FILE, "utf8")) as CompiledCatalog;
  } catch {
    return null; // running from src/, or not built: parse the YAML
  }
}

/** Built-in entries: the compiled catalog when it matches the YAML sources, else the YAML. */
async function loadBuiltin<S extends z.ZodType<{ id: string }>>(
  kind: CatalogKind,
  loadSchema: () => Promise<S>,
): Promise<{ entries: Array<z.output<S> & { origin: EntryOrigin }>; files: string[] }> {
  const files = await listYamlFiles(join(BUILTIN_DATA_DIR, kind), true);
  const [sources, compiled] = await Promise.all([readSources(files), readCompiled()]);
  const fresh =
    compiled !== null &&
    sources.every(
      (source) => compiled.sources[relative(BUILTIN_DATA_DIR, source.path)] === hashSource(source.text),
    ) &&
    Object.keys(compiled.sources).filter((key) => key.startsWith(`${kind}/`)).length === sources.length;
  if (fresh) {
    const entries = compiled[kind] as Array<z.output<S> & { origin: { kind: "builtin"; file: string } }>;
    return {
      entries: entries.map((entry) => ({
        ...entry,
        origin: { kind: "builtin", file: join(BUILTIN_DATA_DIR, entry.origin.file) },
      })),
      files,
    };
  }
  return { entries: await parseSources(sources, await loadSchema(), "builtin"), files };
}

/**
 * Loads a catalog: built-in entries (data/<kind>/), then the user's from `userDir` (optional, may
 * not exist). A user entry replaces the built-in entry with the same `id`; two entries with the
 * same id in the same layer are an error naming both files.
 */
export async function loadCatalogEntries<S extends z.ZodType<{ id: string }>>(
  kind: CatalogKind,
  loadSchema: () => Promise<S>,
  userDir: string | null,
): Promise<LoadedEntries<z.output<S>>> {
  const [builtin, userFiles] = await Promise.all([
    loadBuiltin(kind, loadSchema),
    userDir ? listYamlFiles(userDir, false) : Promise.resolve([]),
  ]);
  const user =
    userFiles.length > 0 ? await parseSources(await readSources(userFiles), await loadSchema(), "user") : [];
  const byId = new Map<string, z.output<S> & { origin: EntryOrigin }>();
  for (const layer of [builtin.entries, user]) {
    const seen = new Map<string, string>();
    for (const entry of layer) {
      const key = entry.id.toLowerCase();
      const previous = seen.get(key);
      if (previous) {
        throw new ServepilotError(
          "INVALID_DATA_FILE",
          `${entry.origin.file}: id ${JSON.stringify(entry.id)} is already defined in ${previous}`,
        );
      }
      seen.set(key, entry.origin.file);
      byId.set(key, entry);
    }
  }
  return { entries: [...byId.values()], files: [...builtin.files, ...userFiles] };
}
