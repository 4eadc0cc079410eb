/**
 * Recipe import and export: YAML or JSON text holding one recipe document or a list of them (the
 * format of recipe files, with the studio fields beside the recipe's). An import is checked entirely
 * before anything is written; its errors name the entry (`entries.2.engineArgs.maxModelLen`).
 */
import { parseDocument, stringify } from "yaml";
import { ServepilotError } from "../../core/errors.js";
import { type FieldError, invalidFields } from "./field-errors.js";
import { type ParseStudioRecipeOptions, parseStudioRecipe, type StudioRecipe, toDocument } from "./schema.js";

export type TransferFormat = "yaml" | "json";

/** Most recipes one import may hold. */
export const MAX_IMPORT_ENTRIES = 500;

/** The documents in an import: a list, `{recipes: [...]}`, or one document. */
function entriesOf(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  if (typeof data === "object" && data !== null && Array.isArray((data as { recipes?: unknown }).recipes)) {
    return (data as { recipes: unknown[] }).recipes;
  }
  if (data === null || data === undefined) return [];
  return [data];
}

/** Reads import text (or an already-parsed JSON body); syntax errors name the line. */
export function readImport(body: unknown, format: TransferFormat | undefined): unknown[] {
  if (typeof body !== "string") return entriesOf(body);
  const text = body;
  const json = format === "json" || (format === undefined && /^\s*[[{]/.test(text));
  if (json) {
    try {
      return entriesOf(JSON.parse(text));
    } catch (error) {
      throw new ServepilotError("INVALID_ARGUMENT", `body: invalid JSON (${(error as Error).message})`, {
        details: { fields: [{ field: "body", message: `invalid JSON (${(error as Error).message})` }] },
      });
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0];
    const message = `invalid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ""} (${syntax.message.split("\n")[0]})`;
    throw new ServepilotError("INVALID_ARGUMENT", `body: ${message}`, {
      details: { fields: [{ field: "body", message }] },
    });
  }
  return entriesOf(doc.toJS({ maxAliasCount: 100 }));
}

/** Validates every entry; throws one 400 naming each entry's fields when any is invalid. */
export function validateImport(
  entries: readonly unknown[],
  policy: ParseStudioRecipeOptions,
): StudioRecipe[] {
  if (entries.length === 0) {
    throw new ServepilotError("INVALID_ARGUMENT", "body: no recipe to import", {
      details: { fields: [{ field: "body", message: "no recipe to import" }] },
    });
  }
  if (entries.length > MAX_IMPORT_ENTRIES) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `body: ${entries.length} recipes; one import takes at most ${MAX_IMPORT_ENTRIES}`,
    );
  }
  const errors: FieldError[] = [];
  const recipes: StudioRecipe[] = [];
  const firstIndexOfId = new Map<string, number>();
  entries.forEach((entry, index) => {
    const parsed = parseStudioRecipe(entry, policy);
    if (!parsed.ok) {
      for (const e of parsed.errors)
        errors.push({ field: `entries.${index}.${e.field}`, message: e.message });
      return;
    }
    const id = parsed.recipe.recipe.id;
    const earlier = firstIndexOfId.get(id);
    if (earlier !== undefined) {
      errors.push({ field: `entries.${index}.id`, message: `${id} is also the id of entry ${earlier}` });
      return;
    }
    firstIndexOfId.set(id, index);
    recipes.push(parsed.recipe);
  });
  if (errors.length > 0) throw invalidFields(errors, "");
  return recipes;
}

export function exportRecipes(documents: readonly Record<string, unknown>[], format: TransferFormat): string {
  if (format === "json") return `${JSON.stringify(documents, null, 2)}\n`;
  return `# servepilot recipes (POST /api/recipes/import reads this back)\n${stringify(documents)}`;
}

export function exportDocuments(recipes: readonly StudioRecipe[]): Record<string, unknown>[] {
  return recipes.map(toDocument);
}
