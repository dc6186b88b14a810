import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Kysely, type Migration, type MigrationResultSet, Migrator, SqliteDialect, sql } from "kysely";
import { readMigrationFiles, splitStatements } from "../sql-files.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/** The SQL migration files, as Kysely migrations (Kysely's Migrator records and locks them). */
function sqlMigrations(): Record<string, Migration> {
  const out: Record<string, Migration> = {};
  for (const file of readMigrationFiles(MIGRATIONS_DIR)) {
    out[file.name] = {
      up: async (db) => {
        for (const statement of splitStatements(file.up)) await sql.raw(statement).execute(db);
      },
      down: async (db) => {
        for (const statement of splitStatements(file.down)) await sql.raw(statement).execute(db);
      },
    };
  }
  return out;
}

export type MigrationDirection = "latest" | "up" | "down";

export interface MigrationStatus {
  name: string;
  executedAt: Date | undefined;
}

/** Runs migrations on a SQLite file through its own connection, closed afterwards. */
export async function migrateSqlite(
  path: string,
  direction: MigrationDirection,
): Promise<MigrationResultSet> {
  return withMigrator(path, (migrator) => {
    if (direction === "up") return migrator.migrateUp();
    if (direction === "down") return migrator.migrateDown();
    return migrator.migrateToLatest();
  });
}

export async function sqliteMigrationStatus(path: string): Promise<MigrationStatus[]> {
  return withMigrator(path, async (migrator) =>
    (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt })),
  );
}

async function withMigrator<T>(path: string, use: (migrator: Migrator) => Promise<T>): Promise<T> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  try {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => sqlMigrations() } });
    return await use(migrator);
  } finally {
    await db.destroy();
  }
}
