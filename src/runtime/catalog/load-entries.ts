import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
import { ServepilotError } from "../../core/errors.js";

export interface EntryOrigin {
  kind: "builtin" | "user";
  file: string;
}

export interface LoadedEntries<T> {
  entries: Array<T & { origin: EntryOrigin }>;
  /** Files read, in order (built-ins first). */
  files: string[];
}

async function listYamlFiles(dir: string, required: boolean): Promise<string[]> {
  try {
    const names = await readdir(dir);
    return names.filter((name) => /\.ya?ml$/i.test(name)).sort().map((name) => join(dir, name));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!required && code === "ENOENT") return [];
    if (code === "EACCES" || code === "EPERM") {
      throw new ServepilotError("PERMISSION_DENIED", `${dir}: cannot read the directory (permission denied)`, {
        cause: error,
      });
    }
    if (!required && code === "ENOTDIR") {
      throw new ServepilotError("INVALID_DATA_FILE", `${dir}: expected a directory of YAML files, found a file`);
    }
    throw new ServepilotError("INVALID_DATA_FILE", `${dir}: cannot read catalog directory (${code ?? "error"})`, {
      cause: error,
    });
  }
}

function formatIssuePath(path: readonly PropertyKey[]): string {
  return path.map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`)).join("").replace(/^\./, "");
}

/** Parses one YAML file that holds a list of entries, validating each with `schema`. */
export function parseEntriesFile<S extends z.ZodType>(file: string, text: string, schema: S): Array<z.output<S>> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { prettyErrors: true });
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? `:${error.linePos[0].line}` : "";
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ServepilotError("INVALID_DATA_FILE", `${file}${where}: invalid YAML (${reason})`, { cause: error });
  }
  if (doc === null || doc === undefined) return [];
  const list = Array.isArray(doc) ? doc : [doc];
  return list.map((item, index) => {
    const result = schema.safeParse(item);
    if (result.success) return result.data;
    const id =
      typeof item === "object" && item !== null && "id" in item ? ` (id ${JSON.stringify((item as { id: unknown }).id)})` : "";
    const issue = result.error.issues[0];
    const field = issue ? formatIssuePath(issue.path) : "";
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `${file}: entry ${index + 1}${id}${field ? `, field ${field}` : ""}: ${issue?.message ?? "invalid entry"}`,
      { details: { file, entry: index, field, issues: result.error.issues } },
    );
  });
}

async function readEntries<S extends z.ZodType>(
  files: string[],
  schema: S,
  kind: EntryOrigin["kind"],
): Promise<Array<z.output<S> & { origin: EntryOrigin }>> {
  const perFile = await Promise.all(
    files.map(async (file) => {
      let text: string;
      try {
        text = await readFile(file, "utf8");
      } catch (error) {
        throw new ServepilotError("INVALID_DATA_FILE", `${file}: cannot read (${(error as NodeJS.ErrnoException).code})`, {
          cause: error,
        });
      }
      return parseEntriesFile(file, text, schema).map((entry) => ({ ...entry, origin: { kind, file } }));
    }),
  );
  return perFile.flat();
}

/**
 * Loads a catalog: built-in entries from `builtinDir`, then the user's from `userDir` (optional,
 * may not exist). A user entry replaces the built-in entry with the same `id`; two entries with the
 * same id in the same layer are an error naming both files.
 */
export async function loadCatalogEntries<S extends z.ZodType<{ id: string }>>(
  schema: S,
  builtinDir: string,
  userDir: string | null,
): Promise<LoadedEntries<z.output<S>>> {
  const builtinFiles = await listYamlFiles(builtinDir, true);
  const userFiles = userDir ? await listYamlFiles(userDir, false) : [];
  const [builtin, user] = await Promise.all([
    readEntries(builtinFiles, schema, "builtin"),
    readEntries(userFiles, schema, "user"),
  ]);
  const byId = new Map<string, z.output<S> & { origin: EntryOrigin }>();
  for (const layer of [builtin, user]) {
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
  return { entries: [...byId.values()], files: [...builtinFiles, ...userFiles] };
}
