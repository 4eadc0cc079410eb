/**
 * Opens the studio's SQLite database (`<dataDir>/studio.db`): WAL journal, foreign keys on, a busy
 * timeout so that a second reader waits instead of failing, and every pending migration applied.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { type Driver, Kysely, Migrator, SqliteDialect } from "kysely";
import { ServepilotError } from "../../core/errors.js";
import { migrationProvider } from "./migrations.js";
import type { StudioDatabase } from "./schema.js";

export const DATABASE_FILE = "studio.db";

/**
 * SQLite rolls a transaction back by itself after some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM:
 * https://www.sqlite.org/lang_transaction.html "Response To Errors Within A Transaction"). Kysely then
 * issues its own ROLLBACK, which fails ("no transaction is active") and replaces the error that
 * mattered. This dialect rolls back only when a transaction is still open, so a full disk is reported
 * as a full disk.
 */
class StudioSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SQLite.Database) {
    super({ database: sqlite });
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      if (this.sqlite.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

export interface OpenDatabase {
  db: Kysely<StudioDatabase>;
  file: string;
  /** Migrations applied by this open (empty when the schema was current). */
  applied: string[];
  close(): Promise<void>;
}

export async function openDatabase(dataDir: string): Promise<OpenDatabase> {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, DATABASE_FILE);
  let sqlite: SQLite.Database;
  try {
    sqlite = new SQLite(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    sqlite.pragma("synchronous = NORMAL");
  } catch (error) {
    throw new ServepilotError(
      "INVALID_ARGUMENT",
      `${file}: cannot open the studio database (${(error as Error).message})`,
      {
        hint: "check --data-dir and its permissions",
        cause: error,
      },
    );
  }
  const db = new Kysely<StudioDatabase>({ dialect: new StudioSqliteDialect(sqlite) });
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    await db.destroy();
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new ServepilotError(
      "INVALID_DATA_FILE",
      `${file}: migration ${failed} failed (${(error as Error).message})`,
      {
        hint: "the database may come from a newer servepilot; keep a copy and start with a fresh --data-dir",
        cause: error,
      },
    );
  }
  return {
    db,
    file,
    applied: (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName),
    close: () => db.destroy(),
  };
}

export function nowIso(now: number = Date.now()): string {
  return new Date(now).toISOString();
}
