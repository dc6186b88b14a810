import {
  type Kysely,
  type Migration,
  type MigrationResultSet,
  type Migrator,
  NO_MIGRATIONS,
  sql,
} from "kysely";
import type { MigrationTarget } from "./migration-status.js";
import { readMigrationFiles, splitStatements } from "./sql-files.js";

/**
 * A folder of `NNNN_name.up.sql` / `.down.sql` files as Kysely migrations (Kysely's Migrator
 * records and locks them): the migrations of both SQL backends.
 */
export function sqlMigrations(dir: string): Record<string, Migration> {
  const out: Record<string, Migration> = {};
  for (const file of readMigrationFiles(dir)) {
    out[file.name] = {
      up: async (db: Kysely<unknown>) => {
        for (const statement of splitStatements(file.up)) await sql.raw(statement).execute(db);
      },
      down: async (db: Kysely<unknown>) => {
        for (const statement of splitStatements(file.down)) await sql.raw(statement).execute(db);
      },
    };
  }
  return out;
}

/** The names of a folder's migrations, in order. */
export function sqlMigrationNames(dir: string): string[] {
  return readMigrationFiles(dir).map((file) => file.name);
}

/** Moves a schema to `target` with a migrator of either backend. */
export function migrateTo(migrator: Migrator, target: MigrationTarget): Promise<MigrationResultSet> {
  if (target === "up") return migrator.migrateUp();
  if (target === "down") return migrator.migrateDown();
  if (target === "latest") return migrator.migrateToLatest();
  return migrator.migrateTo(target.to ?? NO_MIGRATIONS);
}
