/**
 * Studio recipes in SQLite (`recipes`: id, body = the flat document as JSON, created_at, updated_at).
 * Documents are validated before they are written (parseStudioRecipe with the studio's policy); a
 * read re-checks the structure only, so a row written by an older studio still loads.
 */
import type { Kysely } from "kysely";
import { ServepilotError } from "../../core/errors.js";
import { nowIso } from "../db/database.js";
import type { StudioDatabase } from "../db/schema.js";
import { parseStudioRecipe, type StudioRecipe, toDocument } from "./schema.js";

export interface StoredRecipe {
  studio: StudioRecipe;
  createdAt: string;
  updatedAt: string;
}

function fromRow(row: { id: string; body: string; created_at: string; updated_at: string }): StoredRecipe {
  let document: unknown;
  try {
    document = JSON.parse(row.body);
  } catch (error) {
    throw new ServepilotError("INVALID_DATA_FILE", `stored recipe ${row.id}: the body is not JSON`, {
      cause: error,
    });
  }
  // Security policy was applied when the row was written; here only the shape is re-checked.
  const parsed = parseStudioRecipe(document, { allowCustomCommands: true, flagRegistry: null });
  if (!parsed.ok) {
    const first = parsed.errors[0];
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `stored recipe ${row.id}: ${first ? `${first.field}: ${first.message}` : "invalid"}`,
      { details: { id: row.id, fields: parsed.errors } },
    );
  }
  return { studio: parsed.recipe, createdAt: row.created_at, updatedAt: row.updated_at };
}

/** The studio recipe stored under `id`, or null (the lifecycle launches from this). */
export async function getStoredRecipe(db: Kysely<StudioDatabase>, id: string): Promise<StudioRecipe | null> {
  return (await getStoredRecipeRecord(db, id))?.studio ?? null;
}

export async function getStoredRecipeRecord(
  db: Kysely<StudioDatabase>,
  id: string,
): Promise<StoredRecipe | null> {
  const row = await db.selectFrom("recipes").selectAll().where("id", "=", id).executeTakeFirst();
  return row ? fromRow(row) : null;
}

export async function listStoredRecipes(db: Kysely<StudioDatabase>): Promise<StoredRecipe[]> {
  const rows = await db.selectFrom("recipes").selectAll().orderBy("id").execute();
  return rows.map(fromRow);
}

/** Inserts recipes in one transaction: all are written or none (an existing id is a CONFLICT). */
export async function createStoredRecipes(
  db: Kysely<StudioDatabase>,
  recipes: readonly StudioRecipe[],
  options: { replace?: boolean } = {},
): Promise<void> {
  const now = nowIso();
  await db.transaction().execute(async (trx) => {
    for (const studio of recipes) {
      const id = studio.recipe.id;
      const body = JSON.stringify(toDocument(studio));
      const existing = await trx.selectFrom("recipes").select("id").where("id", "=", id).executeTakeFirst();
      if (existing && !options.replace) {
        throw new ServepilotError("CONFLICT", `recipe ${id} already exists`, {
          hint: "choose another id, or PUT /api/recipes/{id} to change it",
          details: { id },
        });
      }
      if (existing) {
        await trx.updateTable("recipes").set({ body, updated_at: now }).where("id", "=", id).execute();
      } else {
        await trx.insertInto("recipes").values({ id, body, created_at: now, updated_at: now }).execute();
      }
    }
  });
}

export async function createStoredRecipe(db: Kysely<StudioDatabase>, studio: StudioRecipe): Promise<void> {
  await createStoredRecipes(db, [studio]);
}

/** Replaces the recipe stored under `id` (NOT_FOUND when there is none). */
export async function updateStoredRecipe(
  db: Kysely<StudioDatabase>,
  id: string,
  studio: StudioRecipe,
): Promise<void> {
  const result = await db
    .updateTable("recipes")
    .set({ body: JSON.stringify(toDocument(studio)), updated_at: nowIso() })
    .where("id", "=", id)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw new ServepilotError("NOT_FOUND", `no studio recipe ${id}`, { details: { id } });
  }
}

/** Deletes a stored recipe; false when there was none. */
export async function deleteStoredRecipe(db: Kysely<StudioDatabase>, id: string): Promise<boolean> {
  const result = await db.deleteFrom("recipes").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
