import { fileURLToPath } from "node:url";
import { Kysely, Migrator, PostgresDialect } from "kysely";
import type pg from "pg";
import type { AppliedMigration, MigrationStatus, MigrationTarget } from "../migration-status.js";
import { migrateTo, sqlMigrationNames, sqlMigrations } from "../sql-migrations.js";

const MIGRATIONS_DIR = fileURLToPath(new URL("./migrations", import.meta.url));

/** The names of the migrations this version knows, in order. */
export function postgresMigrationNames(): string[] {
  return sqlMigrationNames(MIGRATIONS_DIR);
}

/**
 * Runs migrations on a PostgreSQL database through the pool (which stays open). Each migration
 * runs in a transaction under Kysely's migration lock, so processes starting together migrate once.
 */
export async function migratePostgres(pool: pg.Pool, target: MigrationTarget) {
  return withMigrator(pool, (migrator) => migrateTo(migrator, target));
}

export async function postgresMigrationStatus(pool: pg.Pool): Promise<MigrationStatus[]> {
  return withMigrator(pool, async (migrator) =>
    (await migrator.getMigrations()).map((m) => ({ name: m.name, executedAt: m.executedAt })),
  );
}

/** Migrations recorded as applied, in order, including ones this version does not know. */
export async function appliedPostgresMigrations(pool: pg.Pool): Promise<AppliedMigration[]> {
  const exists = await pool.query<{ t: string | null }>("SELECT to_regclass('kysely_migration')::text AS t");
  if (exists.rows[0]?.t == null) return [];
  // Kysely keeps the time as ISO text.
  const rows = await pool.query<{ name: string; timestamp: string }>(
    "SELECT name, timestamp FROM kysely_migration ORDER BY name",
  );
  return rows.rows.map((r) => ({ name: r.name, appliedAt: new Date(r.timestamp) }));
}

async function withMigrator<T>(pool: pg.Pool, use: (migrator: Migrator) => Promise<T>): Promise<T> {
  // Kysely must not end the pool: it is the store's. A pool facade whose end() does nothing.
  const borrowed = Object.create(pool, { end: { value: async () => {} } }) as pg.Pool;
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: borrowed }) });
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
