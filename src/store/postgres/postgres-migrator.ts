import { fileURLToPath } from "node:url";
import { Kysely, type Migration, Migrator, NO_MIGRATIONS, PostgresDialect, sql } from "kysely";
import type pg from "pg";
import type { MigrationStatus, MigrationTarget } from "../migration-status.js";
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

/** The names of the migrations this version knows, in order. */
export function postgresMigrationNames(): string[] {
  return readMigrationFiles(MIGRATIONS_DIR).map((file) => file.name);
}

/**
 * Runs migrations on a PostgreSQL database through the pool (which stays open). Each migration
 * runs in a transaction under Kysely's migration lock, so processes starting together migrate once.
 */
export async function migratePostgres(pool: pg.Pool, target: MigrationTarget) {
  return withMigrator(pool, (migrator) => {
    if (target === "up") return migrator.migrateUp();
    if (target === "down") return migrator.migrateDown();
    if (target === "latest") return migrator.migrateToLatest();
    return migrator.migrateTo(target.to ?? NO_MIGRATIONS);
  });
}

export async function postgresMigrationStatus(pool: pg.Pool): Promise<MigrationStatus[]> {
  return withMigrator(pool, async (migrator) =>
    (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt })),
  );
}

/** Names of migrations recorded as applied, including ones this version does not know. */
export async function appliedPostgresMigrations(pool: pg.Pool): Promise<string[]> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('kysely_migration')::text AS t");
  if (exists.rows[0]?.t == null) return [];
  const rows = await pool.query<{ name: string }>("SELECT name FROM kysely_migration ORDER BY name");
  return rows.rows.map((r) => r.name);
}

async function withMigrator<T>(pool: pg.Pool, use: (migrator: Migrator) => Promise<T>): Promise<T> {
  // Kysely must not end the pool: it is the store's. A pool facade whose end() does nothing.
  const borrowed = Object.create(pool, { end: { value: async () => {} } }) as pg.Pool;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: borrowed }) });
  try {
    const migrator = new Migrator({
      db,
      provider: { getMigrations: () => Promise.resolve(sqlMigrations()) },
    });
    return await use(migrator);
  } finally {
    await db.destroy();
  }
}
