import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { Kysely, type MigrationResultSet, Migrator, SqliteDialect } from "kysely";
import type { AppliedMigration, MigrationStatus, MigrationTarget } from "../migration-status.js";
import { migrateTo, sqlMigrationNames, sqlMigrations } from "../sql-migrations.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/** The names of the migrations this version knows, in order. */
export function sqliteMigrationNames(): string[] {
  return sqlMigrationNames(MIGRATIONS_DIR);
}

/** Runs migrations on a SQLite file through its own connection, closed afterwards. */
export async function migrateSqlite(path: string, target: MigrationTarget): Promise<MigrationResultSet> {
  return withMigrator(path, (migrator) => migrateTo(migrator, target));
}

export async function sqliteMigrationStatus(path: string): Promise<MigrationStatus[]> {
  return withMigrator(path, async (migrator) =>
    (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt })),
  );
}

/** Migrations recorded as applied in the file, in order, including ones this version does not know. */
export function appliedSqliteMigrations(path: string): AppliedMigration[] {
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const table = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'kysely_migration'")
      .get();
    if (table === undefined) return [];
    const rows = db.prepare("SELECT name, timestamp FROM kysely_migration ORDER BY name").all() as {
      name: string;
      timestamp: string;
    }[];
    return rows.map((r) => ({ name: r.name, appliedAt: new Date(r.timestamp) }));
  } finally {
    db.close();
  }
}

async function withMigrator<T>(path: string, use: (migrator: Migrator) => Promise<T>): Promise<T> {
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: new Database(path) }) });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(sqlMigrations(MIGRATIONS_DIR)) },
    });
    return await use(migrator);
  } finally {
    await db.destroy();
  }
}
